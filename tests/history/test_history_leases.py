"""Leases on executions: one holder at a time, expiry, renewal, release, and races between followers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from amc_magic.history import ExecutionRecord, HistoryStore, create_engine_for_url
from amc_magic.history.leases import Lease, acquire, holder, lease_owner, release, renew
from history_support import FakeClock, claim_args, run_processes

TTL = 60


def submitted(store: HistoryStore, claim: Callable[..., ExecutionRecord], **overrides) -> ExecutionRecord:
    record = claim(**overrides)
    store.set_amc_id(record.id, f"amc-{record.id[:8]}")
    return store.get_execution(record.id)


def test_one_owner_holds_the_lease_until_it_expires(store, claim, clock: FakeClock) -> None:
    record = submitted(store, claim)
    assert holder(store, record.id, clock=clock) is None
    assert acquire(store, record.id, "kernel-a", TTL, clock=clock)
    assert not acquire(store, record.id, "poller-b", TTL, clock=clock)
    assert holder(store, record.id, clock=clock) == Lease("kernel-a", clock.now + timedelta(seconds=TTL))
    assert store.get_execution(record.id).lease_owner == "kernel-a"

    clock.advance(seconds=TTL - 1)
    assert not acquire(store, record.id, "poller-b", TTL, clock=clock)
    clock.advance(seconds=1)
    assert holder(store, record.id, clock=clock) is None
    assert acquire(store, record.id, "poller-b", TTL, clock=clock)
    assert not renew(store, record.id, "kernel-a", TTL, clock=clock)
    assert not release(store, record.id, "kernel-a")
    assert holder(store, record.id, clock=clock).owner == "poller-b"


def test_a_claim_can_take_its_lease_with_the_row(store, clock: FakeClock) -> None:
    expires = clock.now + timedelta(seconds=TTL)
    record, created = store.claim_execution(**claim_args(), lease_owner="kernel-a", lease_expires_at=expires)
    assert created
    assert holder(store, record.id, clock=clock) == Lease("kernel-a", expires)
    assert acquire(store, record.id, "kernel-a", TTL, clock=clock, live_only=False)  # its owner's already
    assert not acquire(store, record.id, "poller-b", TTL, clock=clock, live_only=False)
    with pytest.raises(ValueError, match="both"):
        store.claim_execution(**claim_args("SELECT 2 AS x FROM dsp_impressions"), lease_owner="kernel-a")
    with pytest.raises(ValueError, match="naive"):
        naive = expires.replace(tzinfo=None)
        store.claim_execution(**claim_args("SELECT 3 AS x FROM dsp_impressions"), lease_owner="kernel-a", lease_expires_at=naive)


def test_renewing_keeps_the_lease_and_releasing_frees_it(store, claim, clock: FakeClock) -> None:
    record = submitted(store, claim)
    assert acquire(store, record.id, "kernel-a", TTL, clock=clock)
    for _ in range(3):
        clock.advance(seconds=TTL - 5)
        assert renew(store, record.id, "kernel-a", TTL, clock=clock)
        assert not acquire(store, record.id, "poller-b", TTL, clock=clock)
    assert acquire(store, record.id, "kernel-a", timedelta(seconds=TTL), clock=clock)  # re-entrant
    assert release(store, record.id, "kernel-a")
    assert holder(store, record.id, clock=clock) is None
    assert acquire(store, record.id, "poller-b", TTL, clock=clock)


def test_conditions_finished_executions_recent_polls_and_unknown_ids(store, claim, clock: FakeClock) -> None:
    record = submitted(store, claim)
    store.record_poll(record.id)
    assert not acquire(store, record.id, "poller", TTL, clock=clock, unpolled_since=clock.now - timedelta(seconds=120))
    clock.advance(seconds=121)
    assert acquire(store, record.id, "poller", TTL, clock=clock, unpolled_since=clock.now - timedelta(seconds=120))
    assert release(store, record.id, "poller")

    store.record_status(record.id, "SUCCEEDED")
    assert not acquire(store, record.id, "poller", TTL, clock=clock)
    assert acquire(store, record.id, "poller", TTL, clock=clock, live_only=False)
    for hostile in ("", "\x00", "'; DROP TABLE amc_executions; --", "x" * 10_000, record.id[:8]):
        assert not acquire(store, hostile, "poller", TTL, clock=clock)
        assert holder(store, hostile, clock=clock) is None


def test_bad_arguments_are_refused(store, claim, clock: FakeClock) -> None:
    record = submitted(store, claim)
    for owner in ("", "x" * 201, "a\x00b"):
        with pytest.raises(ValueError):
            acquire(store, record.id, owner, TTL, clock=clock)
    with pytest.raises(ValueError):
        acquire(store, record.id, "kernel", 0, clock=clock)


def test_owner_names_are_unique_per_call() -> None:
    first, second = lease_owner("poller"), lease_owner("poller")
    assert first != second and first.startswith("poller@") and len(first) <= 200


def test_of_many_threads_racing_for_each_lease_exactly_one_wins(db_url: str, clock: FakeClock) -> None:
    """Several threads, each with an engine of its own, ask for every lease at the same moment."""
    setup = HistoryStore(create_engine_for_url(db_url), clock=clock)
    ids = []
    for n in range(8):
        record, _ = setup.claim_execution(**claim_args(f"SELECT {n} AS n"))
        setup.set_amc_id(record.id, f"amc-race-{n}")
        ids.append(record.id)
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    wins: dict[str, list[str]] = {local_id: [] for local_id in ids}
    errors: list[BaseException] = []

    def contend(owner: str) -> None:
        engine = create_engine_for_url(db_url)
        try:
            for local_id in ids:
                barrier.wait(timeout=30)
                if acquire(engine, local_id, owner, TTL, clock=clock):
                    wins[local_id].append(owner)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=contend, args=(f"follower-{n}",)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    setup.close()
    assert not errors, errors
    assert all(len(owners) == 1 for owners in wins.values()), wins


def acquire_in_step(url: str, ids: list[str], owner: str, barrier, results) -> None:
    """Process body: ask for each lease as soon as every process is ready; report the ones won."""
    import traceback

    try:
        engine = create_engine_for_url(url)
        won = []
        for local_id in ids:
            barrier.wait(timeout=30)
            if acquire(engine, local_id, owner, TTL):
                won.append(local_id)
        engine.dispose()
        results.put(("ok", won))
    except Exception:
        results.put(("error", traceback.format_exc()))


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_of_processes_racing_for_each_lease_exactly_one_wins(db_url: str) -> None:
    setup = HistoryStore(create_engine_for_url(db_url))
    ids = []
    for n in range(6):
        record, _ = setup.claim_execution(**claim_args(f"SELECT {n} AS process_race"))
        setup.set_amc_id(record.id, f"amc-process-race-{n}")
        ids.append(record.id)
    setup.close()
    won = run_processes(acquire_in_step, [(db_url, ids, f"server-{n}") for n in range(3)])
    assert sorted(local_id for per_process in won for local_id in per_process) == sorted(ids)
