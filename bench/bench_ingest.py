"""Result ingestion (CSV files to a typed DataFrame): throughput and peak memory.

For 1e4, 1e5 and 1e6 rows of AMC-typed columns (written as AMC writes them: 100,000 rows per
file, header in each), three ways of reading the same files are measured, each in a fresh process
so that its peak resident memory (``resource.getrusage``) is its own:

- ``arrow``: ``pyarrow.csv.read_csv`` on each file, with the column types ours declares (from the
  same ``outputColumns``), and ``concat_tables`` (the baseline: an Arrow table, no DataFrame);
- ``arrow+pandas``: the same, then ``to_pandas()`` with default options (shown for comparison);
- ``parse``: ``read_result_files``, files to the typed DataFrame;
- ``ingest``: the engine's whole path, ``fetch_result``: every file streamed through
  ``AmcClient.download`` from an ``httpx.MockTransport`` (a server holding the files in memory, so
  that reading them is not counted as ours, and sending each in 64 KiB pieces as a socket would)
  into the block parser, which parses each 1 MiB block in a worker thread while the rest arrives,
  then one conversion to pandas.

Each child first runs its method once on a 100-row file, so that modules imported on first use are
not counted, then times the best of three runs; memory is the peak resident set above the process's
size after that warm-up. Ratios are to ``arrow`` in the same run; the memory target is against the
final DataFrame's own size (``memory_usage(deep=True)``).

Targets (1e5 and 1e6 rows): ingest throughput at least 0.8x arrow's (time at most 1.25x), and peak
memory at most 2x the final DataFrame.

Usage: ``python bench/bench_ingest.py [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef, OutputColumn
from amc_magic.engine import read_result_files
from amc_magic.engine.results import column_types, fetch_result

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (100_000, 1_000_000)
TARGET_SIZES = (100_000, 1_000_000)
ROWS_PER_FILE = 100_000
PIECE = 1 << 16  # bytes the loopback server sends at a time
REPEATS = 3
METHODS = ("arrow", "arrow+pandas", "parse", "ingest")
THROUGHPUT_TARGET = 0.8
MEMORY_TARGET = 2.0
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
INSTANCE = InstanceRef("amcbench01", "ENTITYBENCH", "ATVPDKIKX0DER")


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


Reader = Callable[[list[Path]], object]


def arrow_reader(paths: list[Path]) -> Reader:
    """The baseline: ``read_csv`` of each file with the same column types as ours, no DataFrame."""
    convert = pacsv.ConvertOptions(
        column_types=column_types(COLUMNS), strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    return lambda files: pa.concat_tables([pacsv.read_csv(path, convert_options=convert) for path in files])


def pandas_reader(paths: list[Path]) -> Reader:
    """For comparison: the baseline, then one ``to_pandas()`` (default options, so ints with nulls are floats)."""
    arrow = arrow_reader(paths)
    return lambda files: arrow(files).to_pandas()


def parse_reader(paths: list[Path]) -> Reader:
    return lambda files: read_result_files(files, COLUMNS)


def ingest_reader(paths: list[Path]) -> Reader:
    """``fetch_result`` against a server holding ``paths`` (and the warm-up file) in memory."""
    served: dict[str, bytes] = {}

    async def pieces(data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "Atza|bench", "expires_in": 3600})
        path = request.url.path
        if path not in served:
            served[path] = Path(path).read_bytes()
        return httpx.Response(200, content=pieces(served[path]))

    loop = asyncio.new_event_loop()
    client = AmcClient(
        Credentials("bench", "bench", "bench"),
        endpoints=Endpoints("https://amc.bench", "https://amc.bench/token"),
        transport=httpx.MockTransport(serve),
    )
    for path in paths:  # the server's copy, made before the measurements
        served[str(path)] = path.read_bytes()

    def ingest(files: list[Path]) -> object:
        urls = [f"https://s3.bench{path}" for path in files]
        return loop.run_until_complete(fetch_result(client, INSTANCE, "e", COLUMNS, urls=urls)).frame

    return ingest


READERS = {"arrow": arrow_reader, "arrow+pandas": pandas_reader, "parse": parse_reader, "ingest": ingest_reader}


def measure_here(method: str, directory: Path, repeats: int) -> dict[str, float]:
    """Time and peak memory of ``method`` in this process (run as a child)."""
    paths = sorted(directory.glob("*.csv"), key=lambda p: int(p.stem))
    warm = directory / "warm-up" / "1.csv"
    read = READERS[method](paths)
    read([warm])
    before = _current_rss()
    best, frame_bytes = float("inf"), 0
    for _ in range(repeats):
        started = time.perf_counter()
        result = read(paths)
        best = min(best, time.perf_counter() - started)
        if hasattr(result, "memory_usage"):
            frame_bytes = int(result.memory_usage(deep=True).sum())
        del result
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    return {"seconds": best, "peak_bytes": max(peak, 0), "frame_bytes": frame_bytes}


def measure(method: str, directory: Path, repeats: int) -> dict[str, float]:
    """Run ``measure_here`` in a fresh interpreter and return its figures."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, str(directory), str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def _current_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def collect(quick: bool = False) -> dict[str, object]:
    """Measure every size; return the detail table (markdown lines) and the summary rows."""
    sizes, repeats = (QUICK_SIZES, 2) if quick else (SIZES, REPEATS)
    lines = [
        f"Best of {repeats} runs; peak = resident memory above the process after a warm-up; time ratios to arrow, "
        "memory ratios to the final DataFrame.",
        "",
        "| rows | files | CSV MB | DataFrame MB | arrow s | arrow+pandas s (ratio) | parse s (ratio) | ingest s (ratio) "
        "| ingest rows/s | arrow peak MB | parse peak MB (x frame) | ingest peak MB (x frame) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="amc-bench-") as name:
            directory = Path(name)
            paths = write_files(size, directory)
            (directory / "warm-up").mkdir()
            write_files(100, directory / "warm-up")
            size_mb = sum(p.stat().st_size for p in paths) / 1e6
            figures = {method: measure(method, directory, repeats) for method in METHODS}
        lines.append(table_row(size, len(paths), size_mb, figures))
        if size in TARGET_SIZES:
            rows.extend(summary_rows(size, figures))
    return {"lines": lines, "rows": rows}


def summary_rows(size: int, figures: dict[str, dict[str, float]]) -> list[dict[str, object]]:
    arrow, frame_mb = figures["arrow"]["seconds"], figures["parse"]["frame_bytes"] / 1e6
    rows = []
    for method in ("ingest", "parse"):
        seconds = figures[method]["seconds"]
        throughput = arrow / seconds
        rows.append(
            dict(
                path=f"result {method}, {size:,} rows: throughput vs `pyarrow.csv.read_csv`",
                baseline=f"{arrow:.3f} s",
                ours=f"{seconds:.3f} s",
                ratio=f"{throughput:.2f}x throughput",
                target=f">= {THROUGHPUT_TARGET}x",
                met=throughput >= THROUGHPUT_TARGET,
            )
        )
    peak_mb = figures["ingest"]["peak_bytes"] / 1e6
    rows.append(
        dict(
            path=f"result ingest, {size:,} rows: peak memory vs final DataFrame",
            baseline=f"{frame_mb:.0f} MB frame",
            ours=f"{peak_mb:.0f} MB peak",
            ratio=f"{peak_mb / frame_mb:.2f}x",
            target=f"<= {MEMORY_TARGET}x",
            met=peak_mb <= MEMORY_TARGET * frame_mb,
        )
    )
    return rows


def table_row(rows: int, files: int, size_mb: float, figures: dict[str, dict[str, float]]) -> str:
    """One markdown row: times with their ratios to ``arrow``, peaks with their ratios to the frame."""
    base, frame = figures["arrow"], max(figures["parse"]["frame_bytes"], 1)

    def seconds(method: str) -> str:
        value = figures[method]["seconds"]
        return f"{value:.3f} ({value / max(base['seconds'], 1e-9):.2f}x)"

    def peak(method: str) -> str:
        value = figures[method]["peak_bytes"]
        return f"{value / 1e6:.0f} ({value / frame:.2f}x)"

    return (
        f"| {rows:,} | {files} | {size_mb:.1f} | {frame / 1e6:.1f} | {base['seconds']:.3f} "
        f"| {seconds('arrow+pandas')} | {seconds('parse')} | {seconds('ingest')} | {rows / figures['ingest']['seconds']:,.0f} "
        f"| {base['peak_bytes'] / 1e6:.0f} | {peak('parse')} | {peak('ingest')} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e5 and 1e6 rows only, best of 2")
    args = parser.parse_args()
    print("\n".join(collect(args.quick)["lines"]))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(measure_here(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()
