"""Benchmark the history store: cache-hit latency and the history listing.

Run as ``.venv/bin/python bench/bench_history.py [--db-url URL] [--quick]``. Without ``--db-url`` it
uses a temporary SQLite file; a PostgreSQL URL gets a throwaway schema that is dropped afterwards.
Prints a markdown table.

* cache hit: ``find_cached`` + ``load_result`` for results of 1e4, 1e5 and 1e6 rows, against
  reading the same Parquet bytes (already in memory) with pyarrow directly; target: at most
  1.2x that + 20 ms. Results of 1 MiB or more are read from this machine's checksummed copy
  (``amc_magic.history.result_files``); the extra 1e6 row is a first hit without that copy (a
  teammate's machine, or a deleted copy): the bytes come from the database and the copy is written
  in the background (finished, deleted and synced to disk, untimed, before the next run);
* ``history_frame(20)`` with 10,000 executions in the database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from amc_magic.history import HistoryStore, cache_key, create_engine_for_url
from amc_magic.history import tables as t
from amc_magic.history.result_files import copies_directory, wait_for_copies

ROW_COUNTS = (10_000, 100_000, 1_000_000)
HISTORY_SIZE = 10_000
TARGET_RATIO, TARGET_SLACK = 1.2, 0.020


def result_frame(rows: int) -> pd.DataFrame:
    """A result shaped like an AMC report: dimensions as text and dates, metrics as numbers."""
    rng = np.random.default_rng(rows)
    campaigns = np.array([f"Campaign {n:03d}" for n in range(200)], dtype=object)
    return pd.DataFrame(
        {
            "campaign": pd.array(campaigns[rng.integers(0, 200, rows)], dtype="string"),
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
            "impressions": pd.array(rng.integers(0, 1_000_000, rows), dtype="Int64"),
            "reach": pd.array(rng.integers(0, 100_000, rows), dtype="Int64"),
            "spend": rng.random(rows) * 1000,
            "is_new": rng.random(rows) < 0.5,
        }
    )


def median_seconds(action: Callable[[], object], repeats: int, before: Callable[[], object] = lambda: None) -> float:
    """Median wall time of ``action`` over ``repeats`` runs (each after ``before``, untimed), after a warm-up."""
    action()
    times = []
    for _ in range(repeats):
        before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def relative_window_query(sql: str) -> dict[str, object]:
    """The ``claim_execution`` arguments of a query over the most recent week."""
    window = dict(window_start=None, window_end=None, time_zone="UTC", window_type="MOST_RECENT_WEEK", options={})
    key = cache_key(instance_id="amcbench", rendered_sql=sql, **window)
    return dict(
        instance_id="amcbench", sql_template=sql, rendered_sql=sql, cache_key=key, parameter_values={}, **window
    )


def bench_cache_hits(store: HistoryStore, quick: bool = False) -> list[tuple[str, float, float]]:
    """Return ``(label, ours, pyarrow)`` seconds per result size."""
    measured = []
    for rows in ROW_COUNTS:
        frame = result_frame(rows)
        record, _ = store.claim_execution(**relative_window_query(f"SELECT * FROM bench_{rows}"))
        store.store_result(record.id, frame, output_columns=[], bytes_downloaded=0)
        store.record_status(record.id, "SUCCEEDED")
        data = parquet_bytes(store, record.id, frame)

        def cache_hit(key: str = record.cache_key) -> pd.DataFrame | None:
            hit = store.find_cached(key)
            return None if hit is None else store.load_result(hit.id)

        repeats = (3 if rows >= 1_000_000 else 7) if quick else (5 if rows >= 1_000_000 else 20)
        ours = median_seconds(cache_hit, repeats)
        direct = median_seconds(lambda: pq.read_table(pa.BufferReader(data)).to_pandas(), repeats)
        label = f"cache hit, {rows:,} rows ({len(data) / 1e6:.1f} MB Parquet)"
        measured.append((label, ours, direct))
        if rows == ROW_COUNTS[-1]:
            first = median_seconds(cache_hit, repeats, before=forget_the_copy)
            measured.append((f"{label}, first hit on a machine without its copy", first, direct))
    return measured


def forget_the_copy() -> None:
    """Make the next hit a first one on this machine: the copy the last one wrote (behind its back) is deleted.

    The disk is synced too, as a machine's is between two first hits: without it, every run writes its
    18 MB copy on top of the last run's dirty pages, and the kernel soon makes writers wait.
    """
    wait_for_copies()
    shutil.rmtree(copies_directory(), True)
    os.sync()


def parquet_bytes(store: HistoryStore, execution_id: str, frame: pd.DataFrame) -> bytes:
    """The Parquet bytes the store keeps for a result (or, if it keeps them elsewhere, the same frame's)."""
    with store.engine.connect() as conn:
        data = conn.execute(sa.select(t.results.c.parquet).where(t.results.c.execution_id == execution_id)).scalar()
    if data:
        return bytes(data)
    from amc_magic.history.results import frame_to_parquet

    return frame_to_parquet(frame)


def fill_history(store: HistoryStore, count: int) -> None:
    """Insert ``count`` finished executions in one transaction."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        dict(
            relative_window_query(f"SELECT campaign, {n} AS n\nFROM dsp_impressions"),
            id=str(uuid.uuid4()),
            amc_execution_id=str(uuid.uuid4()),
            status="SUCCEEDED",
            created_at=start + timedelta(minutes=n),
            submitted_at=start + timedelta(minutes=n),
            finished_at=start + timedelta(minutes=n + 3),
            poll_count=4,
            row_count=n,
        )
        for n in range(count)
    ]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(t.executions), rows)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """Yield a URL for an empty database: a temporary SQLite file, or a throwaway PostgreSQL schema."""
    if url is None:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        return
    schema = f"amc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine_for_url(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def collect(db_url: str | None = None, quick: bool = False) -> dict[str, object]:
    """Measure one backend; return the detail lines (markdown) and the summary rows."""
    with database(db_url) as url:
        store = HistoryStore.from_url(url)
        backend = store.engine.dialect.name
        hits = bench_cache_hits(store, quick)
        fill_history(store, HISTORY_SIZE)
        listing = median_seconds(lambda: store.history_frame(20), 5 if quick else 20)
        store.close()
    lines = [
        f"| {backend} | ours (ms) | pyarrow direct (ms) | ratio | target: 1.2 x direct + 20 ms | met |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    rows = []
    for label, ours, direct in hits:
        limit = TARGET_RATIO * direct + TARGET_SLACK
        lines.append(
            f"| {label} | {ours * 1e3:.1f} | {direct * 1e3:.1f} | {ours / direct:.2f} | {limit * 1e3:.1f} "
            f"| {'yes' if ours <= limit else 'NO'} |"
        )
        rows.append(
            dict(
                path=f"{label.replace('cache hit', 'cache hit (history store)')}, {backend}",
                baseline=f"{direct * 1e3:.1f} ms (pyarrow read of the Parquet bytes)",
                ours=f"{ours * 1e3:.1f} ms",
                ratio=f"{ours / direct:.2f}x",
                target="<= 1.2x + 20 ms",
                met=ours <= limit,
            )
        )
    lines.append(f"| history_frame(20), {HISTORY_SIZE:,} executions | {listing * 1e3:.1f} | | | | |")
    return {"lines": lines, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", help="SQLite or PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    print("\n".join(collect(args.db_url, args.quick)["lines"]))


if __name__ == "__main__":
    main()
