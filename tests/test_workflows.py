"""Saved workflows as a library: typing, the CUSTOM_PARAMETER rewrite, runs, and sync with the embedded sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef
from amc_magic.engine import ExecutionRequest
from amc_magic.errors import NotFoundError, OptionError, ParameterError
from amc_magic.history import HistoryStore, create_engine_for_url
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID, ManualClock, SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.sandbox.database import SandboxDatabase
from amc_magic.sandbox.transport import SandboxTransport
from amc_magic.workflows import (
    parameter_values_for_amc,
    pull_runs,
    resolve_run,
    save,
    show,
    sync,
    to_amc_sql,
    to_amc_workflow,
    workflows_frame,
)

INSTANCE = InstanceRef(INSTANCE_ID, ADVERTISER_ID, MARKETPLACE_ID)
DATA = DataSpec(today=date(2026, 1, 15), scale=0.01)
"""Small real data whose last day (2026-01-13) is two days before the clock's start."""
START, END = datetime(2026, 1, 6), datetime(2026, 1, 13)
REACH = (
    "SELECT campaign, SUM(impressions) AS impressions\n"
    "FROM dsp_impressions\n"
    "WHERE campaign IN ({{ campaigns }}) AND impressions >= {{min_impressions}}\n"
    "GROUP BY campaign"
)
LIST = [{"name": "names", "type": "list[str]"}]

REWRITES = [
    ("x = {{n}}", [], "x = CUSTOM_PARAMETER('n')"),
    ("x = {{  n  }}", [], "x = CUSTOM_PARAMETER('n')"),
    ("x = {{cfg.start}}", [], "x = CUSTOM_PARAMETER('cfg_start')"),
    ("a-{{n}}", [], "a-CUSTOM_PARAMETER('n')"),
    ("t >= {{window_start}} AND t < {{ window_end }}", [],
     "t >= BUILT_IN_PARAMETER('TIME_WINDOW_START') AND t < BUILT_IN_PARAMETER('TIME_WINDOW_END')"),
    ("x = 1 -- {{n}} stays\n", [], "x = 1 -- {{n}} stays\n"),
    ("/* {{n}} */ x = {{n}}", [], "/* {{n}} */ x = CUSTOM_PARAMETER('n')"),
    ("x = '{{'", [], "x = '{{'"),
    ("x = 'it''s' AND y = {{n}}", [], "x = 'it''s' AND y = CUSTOM_PARAMETER('n')"),
    ("c IN ({{names}})", LIST, "ARRAY_CONTAINS(CUSTOM_PARAMETER('names'), c)"),
    ("t.c IN ( {{ names }} )", LIST, "ARRAY_CONTAINS(CUSTOM_PARAMETER('names'), t.c)"),
    ("c NOT IN ({{names}})", LIST, "NOT ARRAY_CONTAINS(CUSTOM_PARAMETER('names'), c)"),
    ("LOWER(TRIM(c)) in ({{names}}) OR d", LIST, "ARRAY_CONTAINS(CUSTOM_PARAMETER('names'), LOWER(TRIM(c))) OR d"),
    ("c IN ({{names}}, 'x')", LIST, "c IN (CUSTOM_PARAMETER('names'), 'x')"),
    ("COLLECT({{names}})", LIST, "COLLECT(CUSTOM_PARAMETER('names'))"),
    ("{{ n }}{{n}}", [], "CUSTOM_PARAMETER('n')CUSTOM_PARAMETER('n')"),
    ("x = {n}", [], "x = {n}"),
]


@pytest.mark.parametrize(("template", "parameters", "expected"), REWRITES, ids=[r[0][:30] for r in REWRITES])
def test_placeholders_become_custom_parameters(template, parameters, expected) -> None:
    assert to_amc_sql(template, parameters) == expected


@pytest.mark.parametrize(
    "template",
    [
        "x = '{{n}}'",
        "x = 'a {{ n }} b'",
        '"{{n}}" = 1',
        "x = {{ 1x }}",
        "x = {{n'); DROP TABLE t; --}}",
        "x = {{n')}}",
        "x = {{a.b-c}}",
        "x = {{}}",
        "x = {{window_start.day}}",
    ],
)
def test_placeholders_that_could_leave_the_quotes_are_refused(template: str) -> None:
    with pytest.raises(ParameterError):
        to_amc_sql(template)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(create_engine_for_url(f"sqlite:///{tmp_path / 'history.sqlite'}"), clock=lambda: NOW)
    yield store
    store.close()


NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
VALUES = {
    "s": "Lumen",
    "i": np.int64(3),
    "f": 0.5,
    "d": Decimal("1.25"),
    "b": True,
    "day": date(2026, 1, 6),
    "at": pd.Timestamp("2026-01-06 10:00", tz="America/New_York"),
    "names": {"B", "A"},
    "ids": pd.Series([1, 2]),
    "cfg": SimpleNamespace(limit=7),
    "nothing": None,
}
TYPED_SQL = " ".join(f"{{{{{name}}}}}" for name in VALUES if name != "cfg") + " {{cfg.limit}} {{window_start}} {{missing}}"


def test_declared_parameters_get_amc_types_and_the_saved_values_as_defaults(store: HistoryStore) -> None:
    saved = save(store, "typed", TYPED_SQL, VALUES, {"instance": "sandbox", "save": "typed"}, "all types")

    declared = {p["name"]: p["type"] for p in saved.version.parameters}
    assert declared == {
        "s": "str", "i": "int", "f": "float", "d": "Decimal", "b": "bool", "day": "date", "at": "datetime",
        "names": "list[str]", "ids": "list[int]", "nothing": "NoneType", "cfg.limit": "int", "missing": None,
    }
    assert saved.version.options == {"instance": "sandbox"}
    body = to_amc_workflow(saved.workflow, saved.version)
    assert body["workflowId"] == saved.workflow.workflow_id
    types = {p["name"]: p["dataType"] for p in body["inputParameters"]}
    assert types == {
        "s": "STRING", "i": "LONG", "f": "DOUBLE", "d": "DECIMAL", "b": "BOOLEAN", "day": "DATE", "at": "TIMESTAMP",
        "names": {"type": "ARRAY", "elementDataType": "STRING"}, "ids": {"type": "ARRAY", "elementDataType": "LONG"},
        "nothing": "STRING", "cfg_limit": "LONG", "missing": "STRING",
    }
    defaults = {p["name"]: p.get("defaultValue") for p in body["inputParameters"]}
    assert defaults == {
        "s": "Lumen", "i": 3, "f": 0.5, "d": "1.25", "b": True, "day": "2026-01-06", "at": "2026-01-06T15:00:00",
        "names": ["A", "B"], "ids": [1, 2], "nothing": None, "cfg_limit": 7, "missing": None,
    }
    assert all(p["columnType"] == "DIMENSION" for p in body["inputParameters"])
    assert "BUILT_IN_PARAMETER('TIME_WINDOW_START')" in body["sqlQuery"]


def test_parameter_values_for_amc_encode_lists_as_arrays() -> None:
    values = parameter_values_for_amc(
        {"names": ("x", "y"), "ids": np.array([1, 2]), "at": datetime(2026, 1, 6, 10, tzinfo=UTC),
         "d": Decimal("2.50"), "cfg.limit": 3, "window_start": datetime(2026, 1, 1)}
    )
    assert values == {"names": ["x", "y"], "ids": [1, 2], "at": "2026-01-06T10:00:00", "d": "2.50", "cfg_limit": 3}


def test_a_run_takes_overrides_over_the_notebook_over_the_saved_values(store: HistoryStore) -> None:
    save(store, "reach", REACH, {"campaigns": ["A"], "min_impressions": 1})
    save(store, "reach", REACH + "\n", {"campaigns": ["A"], "min_impressions": 1})

    plan = resolve_run(store, "reach", namespace={"campaigns": ["N1", "N2"]}, overrides={"min_impressions": "5"})
    assert plan.values == {"campaigns": ["N1", "N2"], "min_impressions": 5}
    assert plan.workflow_version == 2 and plan.workflow_uuid == store.find_workflow("reach").id
    assert "IN ('N1', 'N2') AND impressions >= 5" in plan.render()
    assert plan.amc_parameter_values() == {"campaigns": ["N1", "N2"], "min_impressions": 5}
    first = resolve_run(store, plan.amc_workflow_id, version="1", overrides={"campaigns": "a, b"})
    assert first.values == {"campaigns": ["a", "b"], "min_impressions": 1} and first.workflow_version == 1
    assert resolve_run(store, "reach", overrides={"campaigns": '["x"]'}).values["campaigns"] == ["x"]

    with pytest.raises(OptionError, match="no parameter 'campaign'") as caught:
        resolve_run(store, "reach", overrides={"campaign": "x"})
    assert "campaigns, min_impressions" in str(caught.value)
    with pytest.raises(ParameterError, match="declared int"):
        resolve_run(store, "reach", overrides={"min_impressions": "many"})
    with pytest.raises(NotFoundError, match="no version 9"):
        resolve_run(store, "reach", version=9)
    with pytest.raises(OptionError, match="not a version number"):
        resolve_run(store, "reach", version="latest")


def test_show_gives_versions_and_the_sql_diff_and_the_list_counts_them(store: HistoryStore) -> None:
    save(store, "reach", REACH, {"campaigns": ["A"], "min_impressions": 1}, description="weekly")
    save(store, "reach", REACH.replace("SUM(impressions)", "COUNT(DISTINCT user_id)"), {"campaigns": ["A"], "min_impressions": 1})

    detail = show(store, "reach")
    assert [v.version for v in detail.versions] == [1, 2]
    [diff] = detail.diffs
    assert diff.splitlines()[:2] == ["--- reach v1", "+++ reach v2"]
    assert "-SELECT campaign, SUM(impressions) AS impressions" in diff
    assert "+SELECT campaign, COUNT(DISTINCT user_id) AS impressions" in diff
    assert "version 2" in detail.text() and "campaigns: list[str], min_impressions: int" in detail.text()
    frame = workflows_frame(store)
    assert frame[["name", "versions", "last_status", "description"]].to_dict("records") == [
        {"name": "reach", "versions": 2, "last_status": None, "description": "weekly"}
    ]


# --- on the embedded sandbox ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxDatabase]:
    database = SandboxDatabase(DATA, cache_dir=tmp_path_factory.mktemp("sandbox-data"))
    yield database
    database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def sandbox(sandbox_data: SandboxDatabase, clock: ManualClock) -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(data=DATA, clock=clock, queue_seconds=5, run_seconds=30), database=sandbox_data)
    yield sandbox
    sandbox.close()


@pytest.fixture
async def client(sandbox: Sandbox) -> AmcClient:
    client = AmcClient(
        Credentials("amzn1.application-oa2-client.sandbox", "sandbox-secret", "Atzr|sandbox-refresh"),
        endpoints=Endpoints("http://sandbox.test", "http://sandbox.test/auth/o2/token"),
        transport=SandboxTransport(sandbox.app),
    )
    yield client
    await client.aclose()


async def run(client: AmcClient, sandbox: Sandbox, clock: ManualClock, request: ExecutionRequest) -> pd.DataFrame:
    """Create the execution on the sandbox, let its clock run it to the end, and return its result rows."""
    created = await client.create_execution(INSTANCE, request.body(None))
    for _ in range(3):
        clock.advance(60)
        await sandbox.wait_idle()
    execution = sandbox.api.executions.get(created.execution_id)
    assert execution.status.value == "SUCCEEDED", execution.status_reason
    return execution.output.table.to_pandas().sort_values("campaign").reset_index(drop=True)


async def test_sync_creates_then_updates_one_amc_workflow(store: HistoryStore, sandbox: Sandbox, client: AmcClient) -> None:
    save(store, "reach", REACH, {"campaigns": ["A"], "min_impressions": 1})

    created = await sync(client, INSTANCE, store, "reach")
    unchanged = await sync(client, INSTANCE, store, "reach")
    save(store, "reach", REACH.replace(">=", ">"), {"campaigns": ["A"], "min_impressions": 1})
    updated = await sync(client, INSTANCE, store, "reach")

    assert (created.action, created.version) == ("created", 1)
    assert (unchanged.action, updated.action, updated.version) == ("unchanged", "updated", 2)
    assert sandbox.calls["create_workflow"] == 1 and sandbox.calls["update_workflow"] == 1
    [stored] = sandbox.api.workflows.all()
    workflow = store.find_workflow("reach")
    assert stored.workflow_id == workflow.workflow_id
    assert (
        "ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign) AND impressions > CUSTOM_PARAMETER('min_impressions')"
        in stored.sql_query
    )
    on_amc = await client.get_workflow(INSTANCE, workflow.workflow_id)
    assert on_amc["inputParameters"][0]["dataType"]["elementDataType"] == "STRING"
    assert store.workflows.get_sync(workflow.id, INSTANCE_ID).version == 2


async def test_a_workflow_already_on_amc_is_updated_not_created_twice(
    store: HistoryStore, sandbox: Sandbox, client: AmcClient
) -> None:
    saved = save(store, "reach", REACH, {"campaigns": ["A"], "min_impressions": 1})
    await client.create_workflow(INSTANCE, {"workflowId": saved.workflow.workflow_id, "sqlQuery": AGGREGATE})

    assert (await sync(client, INSTANCE, store, saved.workflow.id)).action == "updated"
    assert sandbox.calls["create_workflow"] == 1 and sandbox.calls["update_workflow"] == 1


async def test_a_synced_workflow_runs_by_workflow_id_like_its_local_rendering(
    store: HistoryStore, sandbox: Sandbox, client: AmcClient, clock: ManualClock
) -> None:
    everything = await run(client, sandbox, clock, _request(sql=AGGREGATE))
    campaigns = sorted(everything["campaign"].dropna())[:2]
    save(store, "reach", REACH, {"campaigns": campaigns, "min_impressions": 1})
    await sync(client, INSTANCE, store, "reach")
    plan = resolve_run(store, "reach", namespace={"campaigns": campaigns, "min_impressions": 1})

    local = await run(client, sandbox, clock, _request(sql=plan.render()))
    on_amc = await run(
        client, sandbox, clock, _request(workflow_id=plan.amc_workflow_id, parameter_values=plan.amc_parameter_values())
    )

    assert local["campaign"].tolist() == campaigns and len(campaigns) == 2
    pd.testing.assert_frame_equal(on_amc, local)
    [by_id] = [e for e in sandbox.api.executions.all() if e.spec.workflow.workflow_id == plan.amc_workflow_id]
    assert by_id.spec.parameter_values == {"campaigns": campaigns, "min_impressions": 1}


async def test_pull_runs_records_each_amc_execution_once(
    store: HistoryStore, sandbox: Sandbox, client: AmcClient, clock: ManualClock
) -> None:
    saved = save(store, "reach", REACH, {"campaigns": ["Nobody"], "min_impressions": 1})
    await sync(client, INSTANCE, store, "reach")
    for n in (1, 2):
        request = _request(workflow_id=saved.workflow.workflow_id, parameter_values={"min_impressions": n})
        await client.create_execution(INSTANCE, request.body(None))
        clock.advance(1)
    await client.create_execution(INSTANCE, _request(sql=AGGREGATE).body(None))  # ad hoc: not the workflow's

    first = await pull_runs(client, INSTANCE, store, "reach")
    second = await pull_runs(client, INSTANCE, store, "reach")

    assert len(first) == 2 and second == []
    rows = [store.get_execution(local_id) for local_id in first]
    assert {row.workflow_id for row in rows} == {saved.workflow.id} and {row.workflow_version for row in rows} == {1}
    assert [row.parameter_values["min_impressions"] for row in rows] == [1, 2]
    assert all(row.window_start == START.replace(tzinfo=UTC) and row.window_end == END.replace(tzinfo=UTC) for row in rows)
    assert {row.status for row in rows} == {"PENDING"} and len(store.list_executions()) == 2


AGGREGATE = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"


def _request(**fields) -> ExecutionRequest:
    return ExecutionRequest(INSTANCE, start=START, end=END, options={"requireSyntheticData": True}, **fields)
