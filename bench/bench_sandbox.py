"""Benchmark of the sandbox's data engine: cold-cache generation and three typical queries.

Run ``python bench/bench_sandbox.py [--scale 1.0] [--today YYYY-MM-DD] [--repeat 3] [--quick]``. It
generates the data into a fresh temporary cache directory, then times each query ``--repeat`` times
(with the aggregation thresholds on) over the last whole month of data, and prints a Markdown table.
``--quick`` is scale 0.25 and 3 repeats.

Baselines measured in the same run: generation against DuckDB writing the same number of rows of
random numbers (12 columns) into a fresh file; each query against the same query with the aggregation
thresholds off (``disable_aggregation_controls``), which isolates the cost of the privacy rewrite.
Target: each query at most 1.3x its baseline (medians).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

import duckdb

from amc_magic.sandbox.data import DataSpec, ensure_database
from amc_magic.sandbox.database import SandboxDatabase

QUERIES = {
    "reach by campaign, one month": """
        SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
        FROM dsp_impressions GROUP BY campaign""",
    "sponsored ads spend by ad product, one month": """
        SELECT ad_product_type, SUM(spend) / 100000000 AS spend, SUM(clicks) AS clicks, SUM(impressions) AS impressions
        FROM sponsored_ads_traffic GROUP BY ad_product_type""",
    "impressions joined to attributed conversions, one month": """
        WITH exposed AS (SELECT user_id, campaign FROM dsp_impressions GROUP BY user_id, campaign),
             converted AS (SELECT user_id, SUM(total_product_sales) AS sales
                           FROM amazon_attributed_events_by_conversion_time GROUP BY user_id)
        SELECT e.campaign, COUNT(DISTINCT e.user_id) AS converters, SUM(c.sales) AS sales
        FROM exposed e JOIN converted c ON e.user_id = c.user_id GROUP BY e.campaign""",
}


QUERY_TARGET = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="scale 0.25, 3 repeats")
    args = parser.parse_args()
    print("\n".join(collect(args.quick, scale=args.scale, today=args.today, repeat=args.repeat)["lines"]))


def collect(
    quick: bool = False, *, scale: float | None = None, today: date | None = None, repeat: int | None = None
) -> dict[str, object]:
    """Generate and query; return the detail lines (markdown) and the summary rows."""
    scale = scale if scale is not None else (0.25 if quick else 1.0)
    repeat = repeat if repeat is not None else 3 if quick else 5
    spec = DataSpec(today=today or datetime.now(UTC).date(), scale=scale)
    with tempfile.TemporaryDirectory() as cache:
        started = perf_counter()
        path = ensure_database(spec, Path(cache))
        generation = perf_counter() - started
        impressions, size = _volume(path), path.stat().st_size
        database = SandboxDatabase(spec, Path(cache))
        month_end = spec.last_day.replace(day=1)
        month_start = (month_end - timedelta(days=1)).replace(day=1)
        window = {
            "window_start": datetime.combine(month_start, time.min),
            "window_end": datetime.combine(month_end, time.min),
        }
        baseline = _random_write(Path(cache) / "baseline.duckdb", impressions)
        rows = [
            ("data generation, cold cache", [generation], [baseline], f"{impressions:,} DSP impressions, {size / 1e6:.0f} MB")
        ]
        for name, sql in QUERIES.items():
            timings, plain, output = [], [], None
            for _ in range(repeat):
                started = perf_counter()
                output = database.run(sql, **window)
                timings.append(perf_counter() - started)
                started = perf_counter()
                database.run(sql, **window, disable_aggregation_controls=True)
                plain.append(perf_counter() - started)
            rows.append((name, timings, plain, f"{output.table.num_rows} rows, {output.filtered_rows} filtered"))
        database.close()
    lines = [
        f"scale {spec.scale:g}, data {spec.first_day} to {spec.last_day}, window {month_start} to {month_end}, "
        f"{repeat} runs of each query",
        "",
        "| step | first run (s) | median (s) | baseline median (s) | ratio | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    summary = []
    for name, timings, base, note in rows:
        ratio = statistics.median(timings) / statistics.median(base)
        lines.append(
            f"| {name} | {timings[0]:.3f} | {statistics.median(timings):.3f} | {statistics.median(base):.3f} "
            f"| {ratio:.2f}x | {note} |"
        )
        if name in QUERIES:
            summary.append(
                dict(
                    path=f"sandbox query: {name} (scale {spec.scale:g})",
                    baseline=f"{statistics.median(base) * 1e3:.0f} ms (thresholds off)",
                    ours=f"{statistics.median(timings) * 1e3:.0f} ms",
                    ratio=f"{ratio:.2f}x",
                    target=f"<= {QUERY_TARGET}x",
                    met=ratio <= QUERY_TARGET,
                )
            )
    return {"lines": lines, "rows": summary}


def _random_write(path: Path, rows: int) -> float:
    """Seconds DuckDB takes to write ``rows`` rows of 12 random columns into a new file."""
    started = perf_counter()
    con = duckdb.connect(str(path))
    try:
        columns = ", ".join(f"random() AS c{i}" for i in range(12))
        con.execute(f"CREATE TABLE t AS SELECT {columns} FROM range({rows})")
    finally:
        con.close()
    return perf_counter() - started


def _volume(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM dsp_impressions").fetchone()[0]
    finally:
        con.close()


if __name__ == "__main__":
    main()
