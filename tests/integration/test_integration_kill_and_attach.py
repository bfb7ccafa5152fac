"""A process killed while it polls AMC: a new session finds the execution, attaches, and caches it."""

from __future__ import annotations

import multiprocessing
import signal

import pandas as pd
import pytest

from amc_magic.history import ExecutionRecord, HistoryStore
from amc_magic.sandbox.config import INSTANCE_ID
from integration_support import (
    QUERY,
    WINDOW,
    connect_once,
    open_session,
    query_until_killed,
    served_environ,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def test_an_execution_whose_process_was_killed_mid_poll_is_attached_and_cached(db_url, serve_sandbox) -> None:
    served = serve_sandbox(run_seconds=5)
    environ = served_environ(served.base_url, db_url)
    connect_once(environ)
    store = HistoryStore.from_url(db_url)

    def polled_execution() -> ExecutionRecord | None:
        listed = store.list_executions(live_only=True)
        return listed[0] if listed and listed[0].poll_count >= 1 else None

    child = multiprocessing.get_context("spawn").Process(target=query_until_killed, args=(environ,))
    child.start()
    try:
        running = wait_until(polled_execution, timeout=45)
    finally:
        child.kill()
        child.join(timeout=10)
        store.close()
    assert child.exitcode == -signal.SIGKILL

    session = open_session(environ)
    try:
        listed = session.history()
        assert list(listed["id"]) == [running.short_id] and listed["status"][0] in ("PENDING", "RUNNING")
        assert session.execution(running.amc_execution_id[:8]).id == running.id
        frame = session.attach(running.short_id).result(timeout=30)

        finished = session.execution(running.id)
        assert finished.status == "SUCCEEDED" and finished.row_count == len(frame) > 0
        pd.testing.assert_frame_equal(session.store.load_result(running.id), frame)
        again = session.start(session.prepare(QUERY, instance=INSTANCE_ID, **WINDOW))
        pd.testing.assert_frame_equal(again.result(timeout=30), frame)
        assert again.from_cache and again.local_id == running.id
        assert len(session.history()) == 1
    finally:
        session.close()
    assert served.sandbox.calls["create_execution"] == 1
    assert len(served.sandbox.api.executions.all()) == 1
