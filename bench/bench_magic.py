"""The ``%%amc`` magic's own cost: a trivial sandbox query through the magic and through the Python API.

Both go through one ``Session`` (an embedded sandbox with a small dataset in a fresh temporary
directory, a fresh SQLite history) with the cache off, so each run submits, polls, downloads and
parses the same execution; the difference is the magic's layer (``parse_line``, the namespace,
binding the result). The magic is called as ``shell.run_cell_magic("amc", line, sql)`` with
``display = "none"`` (no widget); the API as ``amc_magic.query(..., cache="false")``. Runs alternate;
medians are compared.

Usage: ``python bench/bench_magic.py [--quick]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS users FROM dsp_impressions GROUP BY campaign"


def collect(quick: bool = False) -> dict[str, object]:
    """Measure; return the detail lines (markdown) and the summary rows."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import amc_magic
    from amc_magic.sandbox.app import create_app
    from amc_magic.sandbox.config import SandboxConfig
    from amc_magic.sandbox.data import DataSpec
    from amc_magic.session import Session

    runs = 5 if quick else 15
    with tempfile.TemporaryDirectory(prefix="amc-bench-magic-") as name:
        directory = Path(name)
        spec = DataSpec(today=datetime.now(UTC).date(), scale=0.05)
        app = create_app(SandboxConfig(data=spec, data_cache_dir=directory / "data"))
        session = Session(database_url=f"sqlite:///{directory / 'history.sqlite'}", sandbox_app=app)
        last = spec.last_day - timedelta(days=2)  # outside the 48 hours AMC's data may still arrive in
        start, end = (last - timedelta(days=6)).isoformat(), last.isoformat()
        config = Config()
        config.HistoryManager.enabled = False  # no IPython history file, here or at exit
        shell = InteractiveShell.instance(config=config, ipython_dir=str(directory / "ipython"))
        shell.run_line_magic("load_ext", "amc_magic")
        magic = shell.magics_manager.registry["AMCMagic"]
        magic.display = "none"
        magic.session = session
        line = f"instance=sandbox start={start} end={end} cache=false"

        def through_magic() -> object:
            return shell.run_cell_magic("amc", line, SQL)

        def through_api() -> object:
            return amc_magic.query(SQL, instance="sandbox", start=start, end=end, cache="false", session=session)

        assert len(through_magic()) == len(through_api())  # warm-up: data generated, engine and client made
        magic_times, api_times = [], []
        for _ in range(runs):
            for action, times in ((through_magic, magic_times), (through_api, api_times)):
                started = time.perf_counter()
                action()
                times.append(time.perf_counter() - started)
        magic.close()
    ours, base = statistics.median(magic_times), statistics.median(api_times)
    lines = [
        f"{runs} alternating runs of `{SQL}` over {start} to {end} (sandbox scale 0.05, cache off).",
        "",
        "| path | median (ms) | min (ms) |",
        "|---|---:|---:|",
        f"| `%%amc` (run_cell_magic) | {ours * 1e3:.1f} | {min(magic_times) * 1e3:.1f} |",
        f"| `amc_magic.query` | {base * 1e3:.1f} | {min(api_times) * 1e3:.1f} |",
        f"| magic overhead | {(ours - base) * 1e3:+.1f} | |",
    ]
    rows = [
        dict(
            path="`%%amc` overhead: trivial sandbox query through the magic vs the Python API (cache off)",
            baseline=f"{base * 1e3:.0f} ms (amc_magic.query)",
            ours=f"{ours * 1e3:.0f} ms ({(ours - base) * 1e3:+.1f} ms)",
            ratio=f"{ours / base:.2f}x",
            target="<= 1.2x",
            met=ours / base <= 1.2,
        ),
        _load_ext_row(lines, 3 if quick else 7),
    ]
    return {"lines": lines, "rows": rows}


_LOAD_EXT = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
started = time.perf_counter()
shell.run_line_magic("load_ext", "amc_magic")
print(time.perf_counter() - started, int(any(m in sys.modules for m in ("duckdb", "pyarrow", "pandas", "sqlalchemy", "httpx"))))
"""


def _load_ext_row(lines: list[str], runs: int) -> dict[str, object]:
    """``%load_ext amc_magic`` in fresh interpreters (IPython already imported), against ``import pandas`` there."""
    import subprocess
    import sys

    def median_of(code: str) -> tuple[float, str]:
        outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() for _ in range(runs)]
        return statistics.median(float(o[0]) for o in outputs), outputs[0][-1]

    load, heavy = median_of(_LOAD_EXT)
    pandas, _ = median_of("import time; started = time.perf_counter(); import pandas; print(time.perf_counter() - started, 0)")
    lines += ["", f"`%load_ext amc_magic`: {load * 1e3:.0f} ms (median of {runs} fresh interpreters; before the lazy imports it took 1,064 ms); `import pandas` alone: {pandas * 1e3:.0f} ms."]
    return dict(
        path="`%load_ext amc_magic` in a fresh interpreter (loads no duckdb, pyarrow, pandas, SQLAlchemy or httpx)",
        baseline=f"{pandas * 1e3:.0f} ms (`import pandas`)",
        ours=f"{load * 1e3:.0f} ms (was 1,064 ms)",
        ratio=f"{load / pandas:.2f}x",
        target="no heavy import",
        met=heavy == "0",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs of each")
    print("\n".join(collect(parser.parse_args().quick)["lines"]))


if __name__ == "__main__":
    main()
