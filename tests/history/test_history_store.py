"""The store on SQLite and PostgreSQL: instances, workflows, the execution lifecycle, the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from amc_magic.errors import NotFoundError, OptionError, WindowError
from amc_magic.history import HistoryStore, queries
from history_support import FakeClock, claim_args


def test_instances_are_upserted_with_their_account(store: HistoryStore, clock: FakeClock) -> None:
    store.save_account("ENTITY1", "ATVPDKIKX0DER", name="Brand")
    saved = store.save_instance(
        "amcabc123", entity_id="ENTITY1", marketplace_id="ATVPDKIKX0DER", api_url="https://x.test", name="Main"
    )
    clock.advance(minutes=1)
    updated = store.save_instance(
        "amcabc123", entity_id="ENTITY1", marketplace_id="ATVPDKIKX0DER", api_url="https://y.test"
    )
    store.save_instance("amcother", entity_id="ENTITY2", marketplace_id="A1F83G8C2ARO7P", api_url="https://x.test")

    assert saved.api_url == "https://x.test" and saved.instance_type == "STANDARD"
    assert updated.api_url == "https://y.test" and updated.name == "Main"
    assert updated.created_at == saved.created_at and updated.updated_at == saved.updated_at + timedelta(minutes=1)
    assert store.get_instance("amcabc123") == updated
    assert store.get_instance("nope") is None and store.get_instance("") is None
    assert [i.instance_id for i in store.list_instances()] == ["amcabc123", "amcother"]


def test_workflows_are_found_by_uuid_readable_id_or_name(store: HistoryStore) -> None:
    first = store.save_workflow("wf_reach", name="Reach", sql_template="SELECT 1", parameters=[{"name": "x"}])
    again = store.save_workflow("wf_reach", name="Reach v2", sql_template="SELECT 2")

    assert again.id == first.id and again.sql_template == "SELECT 2" and again.parameters == []
    assert store.find_workflow(first.id) == again
    assert store.find_workflow("wf_reach") == again
    assert store.find_workflow(" Reach v2 ") == again


def test_a_name_is_held_by_one_workflow_only(store: HistoryStore) -> None:
    first = store.save_workflow("wf_a", name="Reach", sql_template="SELECT 1")

    with pytest.raises(OptionError, match="already named 'Reach'"):
        store.save_workflow("wf_b", name="Reach", sql_template="SELECT 2")
    assert store.find_workflow("Reach") == first


def test_workflow_ids_amc_would_refuse_are_refused(store: HistoryStore) -> None:
    with pytest.raises(OptionError, match="not valid"):
        store.save_workflow("wf x", name="x", sql_template="SELECT 1")


ODD_REFS = ["wf_x", "", "   ", "'; drop table executions; --", "not-a-uuid", "%", "_", "\\", "a\x00b", "ab%"]


def test_odd_workflow_refs_are_not_found(store: HistoryStore) -> None:
    store.save_workflow("wf_real", name="Real", sql_template="SELECT 1")

    for ref in ODD_REFS:
        with pytest.raises(NotFoundError, match="No workflow matches"):
            store.find_workflow(ref)
    assert store.find_workflow("wf_real").name == "Real"


def test_odd_execution_refs_are_not_found(store: HistoryStore) -> None:
    record, _ = store.claim_execution(**claim_args())
    store.set_amc_id(record.id, "abcd1234-0000-4000-8000-000000000001")

    for ref in ODD_REFS:
        with pytest.raises(NotFoundError):
            store.get_execution(ref)
    assert store.get_execution(record.id) == store.list_executions()[0]


def test_executions_are_found_by_either_id_or_a_unique_prefix(store: HistoryStore, claim) -> None:
    first, second = claim(sql="SELECT 1"), claim(sql="SELECT 2")
    store.set_amc_id(first.id, "ABC_1111-aaaa")
    store.set_amc_id(second.id, "abcx2222-bbbb")

    assert store.get_execution(first.id).id == first.id
    assert store.get_execution("ABC_1111-aaaa").id == first.id
    assert store.get_execution(" abc_1 ").id == first.id  # trimmed, any case
    assert store.get_execution("ABCX").id == second.id
    assert store.get_execution(first.id[:8].upper()).id == first.id
    with pytest.raises(NotFoundError, match="matches several executions") as ambiguous:
        store.get_execution("abc")
    assert first.id in str(ambiguous.value) and second.id in str(ambiguous.value)
    with pytest.raises(NotFoundError, match="No execution matches 'abc_x'"):
        store.get_execution("abc_x")  # "_" is a character, not a wildcard


def test_claim_creates_once_then_attaches_until_the_execution_ends(store: HistoryStore, clock: FakeClock) -> None:
    values = {"day": datetime(2026, 3, 1), "ids": pd.Series([3, 1]), "tags": {"b", "a"}, "cap": Decimal("1.50")}
    first, created = store.claim_execution(**claim_args(parameter_values=values))
    attached, created_again = store.claim_execution(**claim_args())

    assert created and not created_again and attached == first
    assert first.status == "CREATING" and first.amc_execution_id is None and first.created_at == clock.now
    assert first.parameter_values == {"day": "2026-03-01T00:00:00", "ids": [3, 1], "tags": ["a", "b"], "cap": "1.50"}
    assert store.find_live(first.cache_key) == first

    store.set_amc_id(first.id, "amc-1")
    store.record_status(first.id, "FAILED", status_reason="Query exceeded the time limit")
    fresh, created_after = store.claim_execution(**claim_args())

    assert created_after and fresh.id != first.id
    assert store.get_execution(first.id).status_reason == "Query exceeded the time limit"


def test_every_step_of_an_execution_is_recorded(store: HistoryStore, clock: FakeClock, claim) -> None:
    record = claim()
    clock.advance(seconds=2)
    store.set_amc_id(record.id, "amc-77")
    submitted = store.get_execution(record.id)
    clock.advance(seconds=30)
    store.record_poll(record.id)
    store.record_status(record.id, "RUNNING")
    clock.advance(seconds=30)
    store.record_poll(record.id)
    store.record_status(record.id, "RUNNING")
    clock.advance(seconds=30)
    store.record_status(record.id, "SUCCEEDED")
    done = store.get_execution("amc-77")

    assert submitted.status == "PENDING" and submitted.submitted_at == record.created_at + timedelta(seconds=2)
    assert done.poll_count == 2 and done.last_polled_at == done.submitted_at + timedelta(seconds=60)
    assert done.started_at == done.submitted_at + timedelta(seconds=30)
    assert done.finished_at == clock.now and done.status == "SUCCEEDED" and done.is_final
    assert all(t.tzinfo == UTC for t in (done.created_at, done.submitted_at, done.started_at, done.finished_at))


def test_a_final_status_is_never_overwritten(store: HistoryStore, claim) -> None:
    record = claim()
    assert store.record_status(record.id, "CANCELLED", finished_at=datetime(2026, 3, 14, 10, tzinfo=UTC))
    assert not store.record_status(record.id, "RUNNING")
    final = store.get_execution(record.id)
    assert final.status == "CANCELLED" and final.finished_at == datetime(2026, 3, 14, 10, tzinfo=UTC)


def test_bad_updates_raise_clear_errors(store: HistoryStore, claim) -> None:
    record = claim()
    with pytest.raises(ValueError, match="DONE"):
        store.record_status(record.id, "DONE")
    with pytest.raises(ValueError, match="started_at is a naive datetime"):
        store.record_status(record.id, "RUNNING", started_at=datetime(2026, 3, 1))
    for update in (
        lambda: store.set_amc_id("missing", "amc"),
        lambda: store.record_status("missing", "RUNNING"),
        lambda: store.record_poll("missing"),
        lambda: store.store_result("missing", pd.DataFrame(), output_columns=[], bytes_downloaded=0),
    ):
        with pytest.raises(NotFoundError, match="'missing'"):
            update()


def test_a_creating_row_without_an_amc_id_goes_stale(store: HistoryStore, clock: FakeClock, claim) -> None:
    stuck = claim()
    submitted = claim(sql="SELECT 2")
    store.set_amc_id(submitted.id, "amc-2")
    clock.advance(minutes=9, seconds=59)
    assert store.find_live(stuck.cache_key) == stuck
    assert not store.claim_execution(**claim_args())[1]

    clock.advance(seconds=2)
    assert store.find_live(stuck.cache_key) is None
    replacement, created = store.claim_execution(**claim_args())

    assert created and replacement.id != stuck.id
    abandoned = store.get_execution(stuck.id)
    assert abandoned.status == "ABANDONED" and abandoned.finished_at == clock.now
    assert store.get_execution(submitted.id).status == "PENDING"  # it has an AMC id: never stale


def test_abandon_stale_marks_every_stale_row(store: HistoryStore, clock: FakeClock, claim) -> None:
    claim(sql="SELECT 1"), claim(sql="SELECT 2")
    assert store.abandon_stale() == 0
    clock.advance(minutes=11)
    claim(sql="SELECT 3")
    assert store.abandon_stale() == 2


def test_stale_after_is_configurable(engine, clock: FakeClock) -> None:
    store = HistoryStore(engine, clock=clock, stale_after=timedelta(seconds=5))
    store.claim_execution(**claim_args())
    clock.advance(seconds=6)
    assert store.claim_execution(**claim_args())[1]


def test_a_naive_window_is_read_in_its_time_zone(store: HistoryStore) -> None:
    record, _ = store.claim_execution(
        **claim_args(window_start=datetime(2026, 3, 1), window_end=datetime(2026, 4, 1), time_zone="America/New_York")
    )
    assert record.window_start == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert record.window_end == datetime(2026, 4, 1, 4, tzinfo=UTC)  # daylight saving time began
    with pytest.raises(WindowError, match="Mars/Olympus"):
        store.claim_execution(**claim_args(time_zone="Mars/Olympus"))


def test_claims_name_their_workflow_by_any_reference(store: HistoryStore) -> None:
    workflow = store.save_workflow("wf_reach", name="Reach", sql_template="SELECT 1")
    by_name, _ = store.claim_execution(**claim_args(workflow_id="Reach"))
    assert by_name.workflow_id == workflow.id
    with pytest.raises(NotFoundError):
        store.claim_execution(**claim_args(sql="SELECT 9", workflow_id="wf_missing"))


def typed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign": pd.array(["Spring Sale", None, "Mother's Day"], dtype="string"),
            "reach": pd.array([10, None, 3_000_000_000], dtype="Int64"),
            "ctr": [0.5, float("nan"), 1e-9],
            "is_new": [True, False, True],
            "maybe": pd.array([True, None, False], dtype="boolean"),
            "day": pd.to_datetime(["2026-03-01", None, "2026-03-03"]),
            "seen_at": pd.to_datetime(["2026-03-01T10:00:00Z", "2026-03-02T11:30:00Z", None], utc=True),
        }
    )


def test_cached_results_keep_their_dtypes(store: HistoryStore, claim) -> None:
    record = claim()
    frame = typed_frame()
    store.set_amc_id(record.id, "amc-1")
    store.store_result(record.id, frame, output_columns=[{"name": "campaign"}], bytes_downloaded=1234)
    store.record_status(record.id, "SUCCEEDED")

    hit = store.find_cached(record.cache_key)
    assert hit is not None and hit.id == record.id
    assert hit.row_count == 3 and hit.bytes_downloaded == 1234 and hit.output_columns == [{"name": "campaign"}]
    pd.testing.assert_frame_equal(store.load_result(hit.id), frame)


def test_an_empty_result_keeps_its_columns(store: HistoryStore, claim) -> None:
    record = claim()
    frame = typed_frame().iloc[:0]
    store.store_result(record.id, frame, output_columns=[], bytes_downloaded=0)
    pd.testing.assert_frame_equal(store.load_result(record.id), frame)


def test_only_succeeded_executions_with_a_result_are_cache_hits(store: HistoryStore, clock: FakeClock, claim) -> None:
    failed = claim()
    store.store_result(failed.id, typed_frame(), output_columns=[], bytes_downloaded=1)
    store.record_status(failed.id, "FAILED")
    succeeded_without_result = claim()
    store.record_status(succeeded_without_result.id, "SUCCEEDED")
    assert store.find_cached(failed.cache_key) is None
    assert store.load_result(succeeded_without_result.id) is None

    older = claim()
    store.store_result(older.id, typed_frame(), output_columns=[], bytes_downloaded=1)
    store.record_status(older.id, "SUCCEEDED")
    clock.advance(minutes=1)
    newer = claim()
    store.store_result(newer.id, typed_frame().iloc[:1], output_columns=[], bytes_downloaded=1)
    store.record_status(newer.id, "SUCCEEDED")
    assert store.find_cached(failed.cache_key).id == newer.id


def test_history_lists_submitted_executions_newest_first(store: HistoryStore, clock: FakeClock, claim) -> None:
    claim(sql="SELECT never_submitted")
    old = claim(sql="\n\n  SELECT campaign,\n  COUNT(*) FROM t")
    store.set_amc_id(old.id, "11111111-aaaa")
    store.store_result(old.id, typed_frame(), output_columns=[], bytes_downloaded=1)
    clock.advance(minutes=5)
    store.record_status(old.id, "SUCCEEDED")
    running = claim(
        sql="SELECT 2", window_start=datetime(2026, 3, 1, 6), window_end=datetime(2026, 3, 2), time_zone="Europe/Paris"
    )
    store.set_amc_id(running.id, "22222222-bbbb")
    clock.advance(minutes=1)
    relative = claim(sql="SELECT 3", window_start=None, window_end=None, window_type="MOST_RECENT_WEEK")
    store.set_amc_id(relative.id, "33333333-cccc")
    clock.advance(minutes=2)

    frame = store.history_frame()

    assert list(frame.columns) == [
        "id", "amc_id", "status", "instance", "window", "submitted", "duration", "rows", "sql"
    ]
    assert list(frame["amc_id"]) == ["33333333", "22222222", "11111111"]
    assert list(frame["id"]) == [relative.id[:8], running.id[:8], old.id[:8]]
    assert list(frame["status"]) == ["PENDING", "PENDING", "SUCCEEDED"]
    assert list(frame["window"]) == [
        "MOST_RECENT_WEEK",
        "2026-03-01 06:00 → 2026-03-02 00:00 (Europe/Paris)",
        "2026-03-01 → 2026-04-01",
    ]
    assert list(frame["duration"]) == ["2m 00s", "3m 00s", "5m 00s"]
    assert list(frame["rows"].astype(object).where(frame["rows"].notna(), None)) == [None, None, 3]
    assert frame["sql"].iloc[2] == "SELECT campaign, COUNT(*) FROM t"
    assert frame["submitted"].iloc[2] == pd.Timestamp(old.created_at)
    assert len(store.history_frame(limit=1)) == 1
    assert [r.id for r in store.list_executions(live_only=True)] == [relative.id, running.id]


def test_history_counts_lines_so_a_backfill_is_one_line_with_all_its_periods(
    store: HistoryStore, clock: FakeClock, claim
) -> None:
    def submitted(**overrides) -> str:
        record = claim(**overrides)
        store.set_amc_id(record.id, f"amc-{record.id}")
        clock.advance(minutes=1)
        return record.id

    periods = [submitted(sql=f"SELECT {n}", backfill_id="bf_weekly") for n in range(3)]
    alone = submitted(sql="SELECT 'alone'")  # between the backfill's periods
    periods += [submitted(sql=f"SELECT {n}", backfill_id="bf_weekly") for n in range(3, 5)]
    newest = submitted(sql="SELECT 'newest'")

    two = store.history_frame(2)
    assert list(two["id"]) == [newest[:8], "bf_weekly"]
    assert two["amc_id"].iloc[1] == "5 runs"
    assert list(store.history_frame(3)["id"]) == [newest[:8], "bf_weekly", alone[:8]]
    assert list(store.history_frame(1)["id"]) == [newest[:8]]
    assert store.history_frame(0).empty
    with store.engine.connect() as conn:  # read a page of two executions at a time
        paged = queries.history_lines(conn, 3, page=2)
    assert [r.id for r in paged] == [newest, *reversed(periods), alone]
    with pytest.raises(OptionError):
        store.history_frame(-1)


def test_an_empty_history_is_an_empty_table(store: HistoryStore) -> None:
    frame = store.history_frame()
    assert frame.empty and list(frame.columns)[0] == "id"
    with pytest.raises(OptionError):
        store.list_executions(-1)
