"""Helpers shared by the history tests, and the bodies of the processes they spawn.

Spawned processes import this module by name, so it holds no test functions and no fixtures.
"""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

from amc_magic.history import HistoryStore, cache_key, create_engine_for_url

CACHE_KEY_FIELDS = ("instance_id", "rendered_sql", "window_start", "window_end", "time_zone", "window_type", "options")


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def claim_args(sql: str = "SELECT campaign FROM dsp_impressions", **overrides: Any) -> dict[str, Any]:
    """Arguments for ``claim_execution`` of a plain explicit-window query; override any."""
    args: dict[str, Any] = dict(
        instance_id="amcinstance01",
        sql_template=sql,
        rendered_sql=sql,
        parameter_values={},
        window_start=datetime(2026, 3, 1, tzinfo=UTC),
        window_end=datetime(2026, 4, 1, tzinfo=UTC),
        time_zone="UTC",
        window_type="EXPLICIT",
        options={},
    )
    args.update(overrides)
    args.setdefault("cache_key", cache_key(**{name: args[name] for name in CACHE_KEY_FIELDS}))
    return args


def run_processes(target: Any, per_process: list[tuple[Any, ...]], timeout: float = 60) -> list[Any]:
    """Run ``target(*args, barrier, results)`` in one spawned process per ``args``; return their outcomes.

    Fails with the processes' tracebacks if any of them raised.
    """
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(per_process)), context.Queue()
    processes = [context.Process(target=target, args=(*args, barrier, results)) for args in per_process]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    errors = [detail for status, detail in outcomes if status == "error"]
    assert not errors, "\n".join(errors)
    return [detail for _, detail in outcomes]


def claim_in_step(url: str, keys: list[str], barrier: Any, results: Any) -> None:
    """Claim each key as soon as every process is ready for it; report ``(key, id, created)`` triples."""
    try:
        store = HistoryStore(create_engine_for_url(url))
        outcome = []
        for key in keys:
            barrier.wait(timeout=30)
            record, created = store.claim_execution(**claim_args(cache_key=key))
            outcome.append((key, record.id, created))
        store.close()
        results.put(("ok", outcome))
    except Exception:
        results.put(("error", traceback.format_exc()))


def write_executions(url: str, worker: int, count: int, barrier: Any, results: Any) -> None:
    """Open the store (all processes at once, so migrations race too) and run ``count`` executions."""
    try:
        barrier.wait(timeout=30)
        store = HistoryStore(create_engine_for_url(url))
        ids = []
        for n in range(count):
            record, created = store.claim_execution(**claim_args(f"SELECT {worker} AS worker, {n} AS n"))
            assert created
            store.set_amc_id(record.id, f"amc-{worker}-{n}")
            store.record_status(record.id, "SUCCEEDED")
            ids.append(record.id)
        store.close()
        results.put(("ok", ids))
    except Exception:
        results.put(("error", traceback.format_exc()))


