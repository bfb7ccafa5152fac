"""Several processes sharing one history database (spawned, so nothing is inherited)."""

from __future__ import annotations

import pytest

from amc_magic.history import HistoryStore, create_engine_for_url
from history_support import claim_in_step, run_processes, write_executions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def test_two_processes_claiming_one_key_at_once_create_one_execution(db_url: str) -> None:
    HistoryStore(create_engine_for_url(db_url)).close()  # schema in place: the claims race, not the migrations
    keys = [f"race-key-{n}" for n in range(5)]

    outcomes = run_processes(claim_in_step, [(db_url, keys), (db_url, keys)])

    for claims in zip(*outcomes, strict=True):
        assert len({key for key, _, _ in claims}) == 1
        assert len({local_id for _, local_id, _ in claims}) == 1, claims
        assert sorted(created for _, _, created in claims) == [False, True], claims


def test_four_processes_writing_at_once_lose_nothing(db_url: str) -> None:
    outcomes = run_processes(write_executions, [(db_url, worker, 50) for worker in range(4)])

    store = HistoryStore(create_engine_for_url(db_url))
    listed = store.list_executions(limit=1000)
    store.close()
    assert sorted(record.id for record in listed) == sorted(local_id for ids in outcomes for local_id in ids)
    assert len(listed) == 200 and {record.status for record in listed} == {"SUCCEEDED"}
