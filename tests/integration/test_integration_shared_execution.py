"""Two processes submitting the identical query at once share one AMC execution (served sandbox)."""

from __future__ import annotations

import pandas as pd
import pytest

from amc_magic.history import HistoryStore
from history_support import run_processes
from integration_support import connect_once, query_in_step, served_environ

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def test_two_processes_running_one_query_at_once_create_one_amc_execution(db_url, serve_sandbox) -> None:
    served = serve_sandbox(run_seconds=2)
    environ = served_environ(served.base_url, db_url)
    connect_once(environ)

    first, second = run_processes(query_in_step, [(environ,), (environ,)], timeout=60)

    assert served.sandbox.calls["create_execution"] == 1
    assert len(served.sandbox.api.executions.all()) == 1
    pd.testing.assert_frame_equal(first["frame"], second["frame"])
    assert len(first["frame"]) > 0
    assert first["local_id"] == second["local_id"]
    assert first["execution_id"] == second["execution_id"] is not None
    assert not first["from_cache"] and not second["from_cache"]  # the second attached; it did not wait for the cache
    store = HistoryStore.from_url(db_url)
    try:
        (record,) = store.list_executions()
        assert record.id == first["local_id"] and record.status == "SUCCEEDED"
        assert record.row_count == len(first["frame"])
    finally:
        store.close()
