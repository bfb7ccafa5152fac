"""Backfills across processes: a killed backfill re-run submits nothing twice; two never exceed the cap."""

from __future__ import annotations

import multiprocessing
import signal
import threading

import pytest

from amc_magic.history import HistoryStore
from integration_support import (
    QUERY,
    backfill_in_process,
    backfill_request,
    backfill_until_killed,
    connect_once,
    open_session,
    served_environ,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_a_backfill_killed_halfway_and_run_again_submits_no_period_twice(db_url, serve_sandbox) -> None:
    served = serve_sandbox(run_seconds=1.5)
    environ = served_environ(served.base_url, db_url)
    connect_once(environ)
    store = HistoryStore.from_url(db_url)

    def halfway() -> bool | None:
        rows = [r for r in store.list_executions(100) if r.backfill_id]
        done = sum(r.status == "SUCCEEDED" and r.row_count is not None for r in rows)
        return True if done >= 3 and any(r.is_live for r in rows) else None

    child = multiprocessing.get_context("spawn").Process(target=backfill_until_killed, args=(environ,))
    child.start()
    try:
        wait_until(halfway, timeout=60)
    finally:
        child.kill()
        child.join(timeout=10)
    assert child.exitcode == -signal.SIGKILL
    submitted_before = served.sandbox.calls["create_execution"]
    assert 3 < submitted_before < 12

    session = open_session(environ)
    try:
        job = session.start_backfill(session.plan_backfill(backfill_request()))
        frame = session.wait(job)
    finally:
        session.close()
        store.close()
    # Finished periods came from the cache, the killed process's running ones were attached to, the rest submitted.
    assert served.sandbox.calls["create_execution"] == 12
    assert len(served.sandbox.api.executions.all()) == 12
    assert frame["window_start"].nunique() == 12


def test_two_processes_backfilling_one_instance_stay_under_the_cap(db_url, serve_sandbox) -> None:
    served = serve_sandbox(run_seconds=1.0)
    environ = served_environ(served.base_url, db_url)
    connect_once(environ)
    peak, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            live = sum(1 for e in served.sandbox.api.executions.all() if e.status.value in ("PENDING", "RUNNING"))
            peak[0] = max(peak[0], live)
            stop.wait(0.005)

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    children = [
        context.Process(target=backfill_in_process, args=(environ, sql, barrier, results))
        for sql in (QUERY, QUERY.replace("SUM(impressions)", "MAX(impressions)"))
    ]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for child in children:
        child.start()
    try:
        outcomes = [results.get(timeout=100) for _ in children]
    finally:
        stop.set()
        watcher.join()
        for child in children:
            child.join(timeout=10)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert served.sandbox.calls["create_execution"] == 24
    assert peak[0] == 3  # both ran at once, and together never had more than concurrency=3 in flight
