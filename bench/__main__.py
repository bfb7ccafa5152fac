"""Run every benchmark and rewrite ``BENCHMARKS.md``.

Usage::

    python -m bench                 # the full run (a few minutes)
    python -m bench --quick         # about a minute: fewer sizes, samples and repeats
    python -m bench --only polling ingest --no-write

Every cache, data and database location points at a fresh temporary directory for the run
(``XDG_*``, Jupyter and IPython directories; SQLite files in temporary directories; a throwaway
PostgreSQL schema), so nothing on the machine decides a figure and nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ISOLATED = {
    "XDG_CACHE_HOME": "cache",
    "XDG_DATA_HOME": "data",
    "XDG_CONFIG_HOME": "config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "IPYTHONDIR": "ipython",
    "MPLCONFIGDIR": "matplotlib",
}


@dataclass(frozen=True)
class Section:
    """One benchmark: how to run it and how to present it."""

    name: str
    title: str
    command: str
    intro: str
    run: Callable[[argparse.Namespace], dict[str, Any]]


def _module(name: str) -> Any:
    return import_module(f"bench.{name}")


INGEST_NOISE = (
    " On this shared machine the baseline alone varies up to 2.4x between runs (13 to 31 ms at 1e5), so one "
    "run's throughput ratio at 1e5 can read anywhere from 0.5x to 1.0x. CPU time, measured in one process "
    "(best of 7, 1e6 rows), is steadier and shows where the time goes: `read_csv` as above, 220 ms of CPU; the "
    "same with our memory pool (jemalloc handing freed pages back at once), 268 ms; our block parse with that "
    "pool, 345 ms, and 272 ms with a 1-s decay. The difference is page faults: a 1e6 ingest takes about 58,000 "
    "(system time about 200 ms), the baseline about 600, because Arrow's parser allocates, per 1-MiB block, "
    "about 3 MB that it frees again (the unquoted field data, three 128-KiB offset arrays, a 940-KiB string "
    "buffer shrunk to 128 KiB; `pyarrow.logging_memory_pool` shows them) for about 0.7 MB of columns, and a pool "
    "that hands pages back faults each of them in again. The ways to keep those pages all break the memory "
    "target: mimalloc keeps about 35 MB during a 1e5 parse (7x the DataFrame) and a decaying jemalloc 2x-2.7x; "
    "parsing whole files, one per core, with mimalloc reaches 0.82x at 1e6 but peaks at 2.1x (1e6) and 4.6x "
    "(1e5). Purging on demand does not rescue them: pyarrow's `release_unused` leaves jemalloc's dirty pages in "
    "place (its own statistics, via `JE_ARROW_MALLOC_CONF=stats_print:true`, still list them); mimalloc's "
    "frees pages only on the thread that calls it, and called on every parse thread every few blocks it "
    "still peaks at 4.7x-5.3x at 1e5 and reaches 0.6x-0.7x at 1e6. Writing each parsed "
    "block straight into preallocated columns (huge pages asked for) left the fault count where it was, "
    "because the faults are the parser's scratch, not the columns; with a jemalloc that keeps freed pages "
    "beside it, the same reached 0.66x at 1e6 (1.4x peak) and 0.56x at 1e5 (3.4x peak). One `read_csv` call also costs about 0.4 ms "
    "besides its bytes (a 9.7 MB file parses in 19 ms as one call, 24 ms as ten 1-MiB blocks). Meeting both "
    "targets would take a CSV parser whose scratch can live in memory it reuses, apart from the columns it "
    "returns (Arrow takes one pool for both). Why no decay setting helps: Arrow configures its jemalloc with "
    "`oversize_threshold:0`, so every large allocation comes from jemalloc's oversize arena, which jemalloc "
    "purges at once whatever `jemalloc_set_decay_ms` says (the same 59,000 faults at 1e6 with a decay of 0 or "
    "1 s). One `read_csv(use_threads=False)` per file, the files parsed side by side, each reading its file "
    "itself, needs 0.60 s of CPU at 1e6 against 0.84 s for our blocks and read 0.83x at 1e6 (median of four "
    "runs, 1.44x peak), 0.70x at 1e5 (one file keeps one core busy). It needs Arrow reading an operating-system "
    "file: fed the same bytes from memory, through a Python file object or an OS pipe, it faulted as much as "
    "the blocks (46,000 to 88,000) and was no faster. Spooling each download to a temporary file would get "
    "there by moving the bytes into the page cache, which the memory target does not count; that was not done "
    "(the memory is used all the same, and a disk here can be nearly full)."
)
"""What repeated ingest runs showed (kept in the section's text, so regenerating keeps it)."""

SECTIONS = [
    Section(
        "polling",
        "Polling (simulated clock)",
        "python bench/bench_polling.py",
        "Status calls and the delay between an execution ending on AMC and the engine noticing it, through the real "
        "engine and client on a simulated clock. Targets: every run from 10 s to 6 h noticed within "
        "max(1 s, min(10 % of its length, 60 s)), with at most 5 % more calls than the fewest any blind schedule "
        "needs for that; with an ETA, at most 30 calls for an hour-long run ending inside its predicted range.",
        lambda args: _module("bench_polling").collect(args.quick),
    ),
    Section(
        "ingest",
        "Result ingestion (CSV files to a typed DataFrame)",
        "python bench/bench_ingest.py",
        "\"parse\" reads the result files into a DataFrame typed from AMC's output columns; \"ingest\" is the whole "
        "path (download from an in-memory loopback server, each file parsed as it lands, one conversion to pandas). "
        "Baseline: `pyarrow.csv.read_csv` of the same files in the same run, given the same column types, joined "
        "with `concat_tables` (an Arrow table, no DataFrame); \"arrow+pandas\" adds one `to_pandas()`. Each method "
        "runs in a fresh process. Targets (1e5 and 1e6 rows): throughput at least 0.8x the baseline's, peak memory "
        "at most 2x the final DataFrame." + INGEST_NOISE,
        lambda args: _module("bench_ingest").collect(args.quick),
    ),
    Section(
        "history-sqlite",
        "Cache hits and history listing, SQLite",
        "python bench/bench_history.py",
        "A cache hit (`find_cached` + `load_result`) against reading the same Parquet bytes, already in memory, with "
        "pyarrow directly; and `history_frame(20)` with 10,000 executions. Target: at most 1.2x the direct read "
        "+ 20 ms. Results of 1 MiB or more are read from this machine's checksummed copy; the \"first hit\" row "
        "has none (a teammate's machine), so the bytes come from the database (in 2 MiB pieces) before the "
        "decode, and the copy is written afterwards, in the background.",
        lambda args: _module("bench_history").collect(None, args.quick),
    ),
    Section(
        "history-postgresql",
        "Cache hits and history listing, PostgreSQL",
        "python bench/bench_history.py --db-url {pg_url}",
        "As above, in a throwaway schema of the PostgreSQL database. A first hit there is the fetch (18 MB from "
        "the server on the same two cores, in 2 MiB pieces all asked for at once in a pipeline: a quarter less "
        "time than asking for each in turn, which was itself about half the time of one whole value) plus the "
        "decode, which puts it above the target. Decoding column chunks while their bytes arrive was tried twice: "
        "3 ms gained with pieces asked for in turn, and 10-20 ms lost with the pipeline (footer first, each chunk "
        "decoded in a thread as soon as it was complete), because that thread takes the core the server needs "
        "to send. What is left is the transfer itself, or a smaller encoding of the same frame (zstd and lz4 "
        "barely shrink it).",
        lambda args: _module("bench_history").collect(args.pg_url, args.quick),
    ),
    Section(
        "magic",
        "`%%amc` overhead",
        "python bench/bench_magic.py",
        "A trivial sandbox query through the magic against the same query through `amc_magic.query`, one session, "
        "cache off (target: at most 1.2x); and `%load_ext amc_magic` in fresh interpreters.",
        lambda args: _module("bench_magic").collect(args.quick),
    ),
    Section(
        "backfill",
        "Backfill",
        "python bench/bench_backfill.py",
        "52 weekly periods of one query at concurrency 10 on the embedded sandbox, each execution held RUNNING for "
        "a fixed run time R (`SandboxConfig(run_seconds=1.5)`), each repeat in a fresh SQLite history. Baseline: the "
        "ideal ceil(52/10) x R, and for context the same ideal from one execution's wall time measured in the same "
        "run. Target: the whole backfill in at most 1.1x the ideal.",
        lambda args: _module("bench_backfill").collect(args.quick),
    ),
    Section(
        "sandbox",
        "Sandbox",
        "python bench/bench_sandbox.py",
        "Generating the dataset into a cold cache, then three typical queries through the sandbox's translation, "
        "time window and aggregation thresholds. Baselines from the same run: for generation, DuckDB writing as many "
        "rows of 12 random columns; for each query, the same query with the thresholds off (the ratio is the cost "
        "of the privacy rewrite). Target: each query at most 1.3x its baseline.",
        lambda args: _module("bench_sandbox").collect(args.quick),
    ),
    Section(
        "sqlcheck",
        "SQL checks",
        "python bench/bench_sqlcheck.py",
        "`amc_magic.sqlcheck.check` against a bare `sqlglot.parse_one` of the same SQL. Targets: a typical query "
        "checked in at most 10 ms; the 2,000-term arithmetic chain in at most 2x its parse.",
        lambda args: _module("bench_sqlcheck").collect(args.quick),
    ),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a pass of about a minute")
    parser.add_argument("--only", nargs="+", choices=[s.name for s in SECTIONS], help="run only these")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL URL (default {DEFAULT_PG_URL})")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL cache-hit benchmark")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent.parent / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing it")
    args = parser.parse_args(argv)
    sections = [s for s in SECTIONS if (not args.only or s.name in args.only)]
    if args.no_postgres:
        sections = [s for s in sections if s.name != "history-postgresql"]
    with tempfile.TemporaryDirectory(prefix="amc-bench-") as scratch:
        _isolate(Path(scratch))
        started = time.perf_counter()
        results = [(section, _run(section, args)) for section in sections]
        elapsed = time.perf_counter() - started
    report = render(results, args, elapsed)
    if args.no_write:
        print(report)
    else:
        args.output.write_text(report)
        print(f"wrote {args.output} ({elapsed:.0f} s)", file=sys.stderr)
    return 0


def _isolate(scratch: Path) -> None:
    """Point every cache, data and config location at ``scratch`` (children inherit it)."""
    for variable, name in ISOLATED.items():
        os.environ[variable] = str(scratch / name)
        (scratch / name).mkdir()
    os.environ.pop("AMC_MAGIC_DB_URL", None)


def _run(section: Section, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{section.name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        result = section.run(args)
    except Exception as exc:  # one broken benchmark must not lose the others
        traceback.print_exc()
        result = {"lines": [f"**Failed:** `{type(exc).__name__}: {exc}`"], "rows": [], "error": exc}
    result["seconds"] = time.perf_counter() - started
    print(f"{section.name}: {result['seconds']:.1f} s", file=sys.stderr, flush=True)
    return result


def render(results: list[tuple[Section, dict[str, Any]]], args: argparse.Namespace, elapsed: float) -> str:
    """The whole of BENCHMARKS.md."""
    command = "python -m bench" + (" --quick" if args.quick else "")
    versions = _versions()
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` ({elapsed:.0f} s) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} cores, "
        f"{versions}. The machine is shared, so absolute times are noisy; every figure has a baseline measured in the "
        "same run, and the ratios are what to compare. `--quick` uses fewer sizes, samples and repeats; run "
        "`python -m bench` for the full figures, or a section's own command for one table.",
        "",
        "## Summary",
        "",
        "| path | baseline | ours | ratio | target | met | command |",
        "|---|---|---|---|---|:---:|---|",
    ]
    for section, result in results:
        command_of = section.command.format(pg_url=args.pg_url) + (" --quick" if args.quick else "")
        if "error" in result:
            lines.append(f"| {section.title} | | failed | | | NO | `{command_of}` |")
        for row in result["rows"]:
            met = {True: "yes", False: "NO", None: "—"}[row["met"]]
            lines.append(
                f"| {row['path']} | {row['baseline']} | {row['ours']} | {row['ratio']} "
                f"| {row['target']} | {met} | `{command_of}` |"
            )
    for section, result in results:
        command_of = section.command.format(pg_url=args.pg_url) + (" --quick" if args.quick else "")
        lines += ["", f"## {section.title}", "", f"`{command_of}` ({result['seconds']:.0f} s)", "", section.intro, ""]
        lines += result["lines"]
    return "\n".join(lines) + "\n"


def _versions() -> str:
    found = [f"Python {platform.python_version()}"]
    for name in ("pyarrow", "pandas", "duckdb", "sqlglot", "sqlalchemy"):
        try:
            found.append(f"{name} {import_module(name).__version__}")
        except Exception:
            continue
    return ", ".join(found)


if __name__ == "__main__":
    sys.exit(main())
