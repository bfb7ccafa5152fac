"""Saved workflows on SQLite and PostgreSQL: versions, lookup by any id, hostile ids, sync state, pulled runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from amc_magic.errors import NotFoundError, OptionError
from amc_magic.history import HistoryStore, migrate
from amc_magic.history.workflows import WORKFLOW_ID_PATTERN
from history_support import FakeClock, claim_args

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions WHERE campaign IN ({{campaigns}}) GROUP BY campaign"
PARAMS = [{"name": "campaigns", "type": "list[str]", "default": ["A", "B"]}]


def save(store: HistoryStore, name: str = "weekly reach", sql: str = SQL, **kwargs):
    kwargs.setdefault("parameters", PARAMS)
    kwargs.setdefault("options", {"window": "last_7_days"})
    return store.workflows.save_version(name, sql_template=sql, **kwargs)


def test_a_first_save_makes_version_1_with_both_ids(store: HistoryStore, clock: FakeClock) -> None:
    saved = save(store, description="Reach by campaign")

    workflow, version = saved.workflow, saved.version
    assert saved.created and version.version == 1 and version.created_at == clock.now
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", workflow.id)
    assert WORKFLOW_ID_PATTERN.fullmatch(workflow.workflow_id)
    assert workflow.name == "weekly reach" and workflow.description == "Reach by campaign"
    assert version.sql_template == SQL and version.parameters == PARAMS
    assert version.options == {"window": "last_7_days"}


def test_edit_and_resave_make_two_versions_and_an_unchanged_save_makes_none(
    store: HistoryStore, clock: FakeClock
) -> None:
    first = save(store)
    clock.advance(minutes=5)
    edited = save(store, sql=SQL.replace("SUM(impressions)", "SUM(clicks)"))
    clock.advance(minutes=5)
    again = save(store, sql=SQL.replace("SUM(impressions)", "SUM(clicks)"))
    new_default = save(
        store,
        sql=SQL.replace("SUM(impressions)", "SUM(clicks)"),
        parameters=[{"name": "campaigns", "type": "list[str]", "default": ["C"]}],
        description="now clicks",
    )

    assert edited.created and edited.version.version == 2 and edited.workflow.id == first.workflow.id
    assert not again.created and again.version == edited.version
    assert not new_default.created and new_default.workflow.description == "now clicks"
    versions = store.workflows.list_versions(first.workflow.id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].sql_template == SQL and "SUM(clicks)" in versions[1].sql_template
    assert store.find_workflow("weekly reach").sql_template == versions[1].sql_template
    assert store.workflows.get_version(first.workflow.id).version == 2
    assert store.workflows.get_version(first.workflow.id, 1) == versions[0]
    with pytest.raises(NotFoundError, match="no version 3: it has versions 1 to 2"):
        store.workflows.get_version(first.workflow.id, 3)


@pytest.mark.parametrize(
    "change",
    [
        {"parameters": [{"name": "campaigns", "type": "list[int]", "default": [1]}]},
        {"options": {"window": "last_30_days"}},
    ],
    ids=["parameter-type", "options"],
)
def test_new_parameter_types_or_options_make_a_version(store: HistoryStore, change) -> None:
    save(store)
    assert save(store, **change).version.version == 2


def test_a_workflow_is_found_by_uuid_wf_id_name_and_unique_prefixes(store: HistoryStore) -> None:
    workflow = save(store).workflow
    other = save(store, "other").workflow

    for ref in (workflow.id, workflow.id.upper(), workflow.workflow_id, "weekly reach", " weekly reach "):
        assert store.find_workflow(ref) == workflow, ref
    uuid_prefix = _unique_prefix(workflow.id, other.id)
    wf_prefix = "wf_" + _unique_prefix(workflow.workflow_id[3:], other.workflow_id[3:])
    assert store.find_workflow(uuid_prefix) == workflow
    assert store.find_workflow(wf_prefix) == workflow
    assert store.find_workflow(wf_prefix.upper().replace("WF_", "wf_")) == workflow


def test_an_ambiguous_prefix_lists_the_candidates(store: HistoryStore, engine: sa.Engine) -> None:
    first, second = save(store, "first").workflow, save(store, "second").workflow
    with engine.begin() as conn:  # give both ids a common start, as chance eventually would
        for record, workflow_id, uuid in ((first, "wf_abc000000001", "abc00000-0000-4000-8000-000000000001"),
                                          (second, "wf_abc000000002", "abc00000-0000-4000-8000-000000000002")):
            conn.execute(sa.text("UPDATE amc_workflows SET workflow_id = :w WHERE id = :id"), {"w": workflow_id, "id": record.id})
    for ref in ("wf_abc", "WF_ABC0000"):
        with pytest.raises(NotFoundError, match="matches several workflows") as caught:
            store.find_workflow(ref)
        assert "'first' (wf_abc000000001" in str(caught.value) and "'second' (wf_abc000000002" in str(caught.value)
    assert store.find_workflow("wf_abc000000002").name == "second"


HOSTILE_REFS = [
    "",
    "   ",
    "x" * 10_000,
    "a\x00b",
    "wf_\x00",
    "'; drop table amc_workflows; --",
    "wf_'; drop table amc_workflows; --",
    "12345678-1234-1234-1234-12345678zzzz",
    "00000000-0000-4000-8000-000000000000",
    "00000000-0000-4000-8000-0000000000001",
    "wf_0123456789abc",
    "wf_xyz",
    "wf_ABCDEFGHIJKL",
    "%",
    "_",
    "\\",
    "wf_%",
    "ab%",
    "😀",
]


@pytest.mark.parametrize("ref", HOSTILE_REFS, ids=lambda ref: repr(ref)[:30])
def test_hostile_ids_are_a_clear_not_found_never_a_database_error(store: HistoryStore, ref: str) -> None:
    save(store)
    with pytest.raises(NotFoundError, match="No workflow matches") as caught:
        store.find_workflow(ref)
    assert caught.value.hint and "wf_ id" in caught.value.hint
    assert len(str(caught.value)) < 400
    with pytest.raises(NotFoundError):
        store.claim_execution(**claim_args(workflow_id=ref))
    assert store.find_workflow("weekly reach").name == "weekly reach"


def test_a_wf_id_of_the_wrong_shape_says_what_a_wf_id_is(store: HistoryStore) -> None:
    with pytest.raises(NotFoundError, match="12 lowercase hex digits"):
        store.find_workflow("wf_0123456789abc")


@pytest.mark.parametrize("name", ["", "  ", "x" * 256, "a\nb", "wf_0123456789ab", "00000000-0000-4000-8000-000000000000"])
def test_names_that_cannot_name_a_workflow_are_refused(store: HistoryStore, name: str) -> None:
    with pytest.raises(OptionError):
        save(store, name)


def test_executions_link_to_the_version_they_ran(store: HistoryStore) -> None:
    saved = save(store)
    record, _ = store.claim_execution(
        **claim_args(workflow_id=saved.workflow.workflow_id[:7], workflow_version=saved.version.version)
    )
    assert record.workflow_id == saved.workflow.id and record.workflow_version == 1


def test_the_list_counts_versions_and_shows_the_newest_run(store: HistoryStore, clock: FakeClock) -> None:
    saved = save(store)
    save(store, sql=SQL + " ")
    save(store, "idle")
    first, _ = store.claim_execution(**claim_args(workflow_id=saved.workflow.id, workflow_version=1))
    store.set_amc_id(first.id, "amc-1")
    store.record_status(first.id, "FAILED", status_reason="boom")
    clock.advance(hours=1)
    second, _ = store.claim_execution(**claim_args(sql="SELECT 2", workflow_id=saved.workflow.id, workflow_version=2))
    store.set_amc_id(second.id, "amc-2")
    store.record_status(second.id, "SUCCEEDED")

    idle, weekly = store.workflows.list_summaries()
    assert (idle.workflow.name, idle.versions, idle.last_run, idle.last_status) == ("idle", 1, None, None)
    assert (weekly.workflow.name, weekly.versions, weekly.last_status) == ("weekly reach", 2, "SUCCEEDED")
    assert weekly.last_run == clock.now


def test_sync_state_is_kept_per_instance(store: HistoryStore, clock: FakeClock) -> None:
    workflow = save(store).workflow
    assert store.workflows.get_sync(workflow.id, "amcsandbox01") is None
    store.workflows.record_sync(workflow.id, "amcsandbox01", 1)
    clock.advance(minutes=1)
    store.workflows.record_sync(workflow.id, "amcsandbox01", 2)
    store.workflows.record_sync(workflow.id, "amcother0001", 1)

    synced = store.workflows.get_sync(workflow.id, "amcsandbox01")
    assert synced is not None and synced.version == 2 and synced.synced_at == clock.now
    assert [(s.instance_id, s.version) for s in store.workflows.list_syncs(workflow.id)] == [
        ("amcother0001", 1),
        ("amcsandbox01", 2),
    ]


def test_an_amc_execution_is_recorded_once(store: HistoryStore) -> None:
    workflow = save(store).workflow
    fields = dict(
        amc_execution_id="11111111-2222-4333-8444-555555555555",
        instance_id="amcsandbox01",
        workflow_id=workflow.id,
        workflow_version=1,
        sql_template=SQL,
        rendered_sql="SELECT ...",
        parameter_values={"campaigns": ["A"]},
        window_start=datetime(2026, 3, 1, tzinfo=UTC),
        window_end=datetime(2026, 3, 2, tzinfo=UTC),
        time_zone="UTC",
        status="SUCCEEDED",
        submitted_at=datetime(2026, 3, 2, 6, tzinfo=UTC),
    )
    local_id = store.workflows.record_amc_execution(**fields)
    assert local_id is not None
    assert store.workflows.record_amc_execution(**fields) is None
    record = store.get_execution("11111111")
    assert record.id == local_id and record.workflow_version == 1 and record.window_type == "EXPLICIT"
    assert record.parameter_values == {"campaigns": ["A"]} and store.list_executions() == [record]


def test_workflows_of_older_databases_become_version_1_and_shared_names_are_told_apart(
    engine: sa.Engine, clock: FakeClock
) -> None:
    migrate(engine, upto="0003_backfills")
    at = "2026-02-01 08:00:00.000000" if engine.dialect.name == "sqlite" else "2026-02-01T08:00:00Z"
    with engine.begin() as conn:
        for n, workflow_id in enumerate(("wf_old_a", "wf_old_b"), start=1):
            conn.execute(
                sa.text(
                    "INSERT INTO amc_workflows (id, workflow_id, name, sql_template, parameters, created_at, updated_at)"
                    f" VALUES ('00000000-0000-4000-8000-00000000000{n}', :w, 'Reach', 'SELECT {n}', '[]', :at, :at)"
                ),
                {"w": workflow_id, "at": at},
            )

    store = HistoryStore(engine, clock=clock)

    assert store.find_workflow("Reach").workflow_id == "wf_old_a"
    renamed = store.find_workflow("wf_old_b")
    assert renamed.name == "Reach (wf_old_b)"
    [version] = store.workflows.list_versions(renamed.id)
    assert (version.version, version.sql_template, version.options) == (1, "SELECT 2", {})
    assert save(store, "Reach", sql="SELECT 1", parameters=[], options={}).created is False


def _unique_prefix(mine: str, other: str) -> str:
    """The shortest start of ``mine`` (at least 4 characters) that ``other`` does not share."""
    for length in range(4, len(mine) + 1):
        if not other.startswith(mine[:length]):
            return mine[:length]
    raise AssertionError("ids are equal")
