"""Result ingestion (CSV files to a typed DataFrame): throughput and peak memory.

For 1e4, 1e5 and 1e6 rows of AMC-typed columns (written as AMC writes them: 100,000 rows per
file, header in each), three ways of reading the same files are measured, each in a fresh process
so that its peak resident memory (``resource.getrusage``) is its own:

- ``arrow``: ``pyarrow.csv.read_csv`` on each file and ``concat_tables`` (the baseline, no types given,
  no DataFrame);
- ``parse``: ``read_result_files``, files to the typed DataFrame;
- ``ingest``: the engine's whole path, ``fetch_result``: stream every file through ``AmcClient.download``
  (an ``httpx.MockTransport`` serving them from disk) into temporary files, then parse.

Times are the best of three runs; memory is the peak resident set above the process's size before
the first run. Ratios are to ``arrow`` in the same run.

Usage: ``python bench/bench_ingest.py``
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef, OutputColumn
from amc_magic.engine import read_result_files
from amc_magic.engine.results import fetch_result

SIZES = (10_000, 100_000, 1_000_000)
ROWS_PER_FILE = 100_000
REPEATS = 3
METHODS = ("arrow", "parse", "ingest")
COLUMNS = [
    OutputColumn("campaign", "STRING"),
    OutputColumn("campaign_id", "LONG"),
    OutputColumn("impressions", "LONG"),
    OutputColumn("total_cost", "DOUBLE"),
    OutputColumn("product_sales", "DECIMAL"),
    OutputColumn("new_to_brand", "BOOLEAN"),
    OutputColumn("event_date_utc", "DATE"),
    OutputColumn("event_dt_utc", "TIMESTAMP"),
]


def write_files(rows: int, directory: Path) -> list[Path]:
    """AMC-shaped result files with ``rows`` rows in total (nulls included)."""
    rng = np.random.default_rng(rows)
    seconds = rng.integers(1_735_689_600, 1_767_225_600, rows)
    impressions = rng.integers(0, 10_000, rows)
    table = pa.table(
        {
            "campaign": pa.array([f"Campaign {i % 977}" for i in range(rows)]),
            "campaign_id": pa.array(rng.integers(10**11, 10**12, rows)),
            "impressions": pa.array(impressions, mask=impressions % 17 == 0),
            "total_cost": pa.array(rng.random(rows) * 1e5),
            "product_sales": pa.array(np.round(rng.random(rows) * 1e4, 4)),
            "new_to_brand": pa.array(rng.random(rows) < 0.3),
            "event_date_utc": pa.array(seconds // 86_400, pa.int32()).cast(pa.date32()),
            "event_dt_utc": pa.array(seconds, pa.int64()).cast(pa.timestamp("s")),
        }
    )
    paths = []
    for number, start in enumerate(range(0, rows, ROWS_PER_FILE), 1):
        path = directory / f"{number}.csv"
        pacsv.write_csv(table.slice(start, ROWS_PER_FILE), path)
        paths.append(path)
    return paths


def read_with_arrow(paths: list[Path]) -> int:
    return pa.concat_tables([pacsv.read_csv(path) for path in paths]).num_rows


def read_with_engine(paths: list[Path]) -> int:
    return len(read_result_files(paths, COLUMNS))


def ingest_with_engine(paths: list[Path]) -> int:
    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "Atza|bench", "expires_in": 3600})
        return httpx.Response(200, content=Path(request.url.path).read_bytes())

    async def run() -> int:
        client = AmcClient(
            Credentials("bench", "bench", "bench"),
            endpoints=Endpoints("https://amc.bench", "https://amc.bench/token"),
            transport=httpx.MockTransport(serve),
        )
        urls = [f"https://s3.bench{path}" for path in paths]
        instance = InstanceRef("amcbench01", "ENTITYBENCH", "ATVPDKIKX0DER")
        fetched = await fetch_result(client, instance, "e", COLUMNS, urls=urls)
        await client.aclose()
        return len(fetched.frame)

    return asyncio.run(run())


READERS = {"arrow": read_with_arrow, "parse": read_with_engine, "ingest": ingest_with_engine}


def measure_here(method: str, directory: Path) -> dict[str, float]:
    """Time and peak memory of ``method`` in this process (run as a child)."""
    paths = sorted(directory.glob("*.csv"), key=lambda p: int(p.stem))
    before = _current_rss()
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        READERS[method](paths)
        best = min(best, time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    return {"seconds": best, "peak_bytes": max(peak, 0)}


def measure(method: str, directory: Path) -> dict[str, float]:
    """Run ``measure_here`` in a fresh interpreter and return its figures."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, str(directory)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def _current_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def main() -> None:
    print(f"Best of {REPEATS} runs; peak = resident memory above the process before the runs; ratios to arrow.\n")
    print(
        "| rows | files | CSV MB | arrow s | parse s (ratio) | ingest s (ratio) | ingest rows/s "
        "| arrow peak MB | parse peak MB (ratio) | ingest peak MB (ratio) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in SIZES:
        with tempfile.TemporaryDirectory(prefix="amc-bench-") as name:
            directory = Path(name)
            paths = write_files(rows, directory)
            size_mb = sum(p.stat().st_size for p in paths) / 1e6
            figures = {method: measure(method, directory) for method in METHODS}
        print(table_row(rows, len(paths), size_mb, figures))


def table_row(rows: int, files: int, size_mb: float, figures: dict[str, dict[str, float]]) -> str:
    """One markdown row: times and peaks, with their ratios to ``arrow``."""
    base = figures["arrow"]

    def cell(method: str, key: str, scale: float, digits: int) -> str:
        value, ratio = figures[method][key] / scale, figures[method][key] / max(base[key], 1e-9)
        return f"{value:.{digits}f} ({ratio:.2f}x)"

    return (
        f"| {rows:,} | {files} | {size_mb:.1f} | {base['seconds']:.3f} | {cell('parse', 'seconds', 1, 3)} "
        f"| {cell('ingest', 'seconds', 1, 3)} | {rows / figures['ingest']['seconds']:,.0f} "
        f"| {base['peak_bytes'] / 1e6:.0f} | {cell('parse', 'peak_bytes', 1e6, 0)} "
        f"| {cell('ingest', 'peak_bytes', 1e6, 0)} |"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure_here(sys.argv[2], Path(sys.argv[3]))))
    else:
        main()
