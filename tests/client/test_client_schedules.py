"""The client's schedule calls against the real sandbox, in-process, on the sandbox's manual clock."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef
from amc_magic.engine import SimulatedClock
from amc_magic.errors import BadRequestError
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID, ManualClock, SandboxConfig
from amc_magic.sandbox.data import DataSpec
from amc_magic.sandbox.transport import SandboxTransport

INSTANCE = InstanceRef(INSTANCE_ID, ADVERTISER_ID, MARKETPLACE_ID)
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
"""A Sunday."""
SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
SCHEDULE = {
    "scheduleId": "weekly-reach",
    "workflowId": "reach",
    "aggregationPeriod": "Daily",
    "aggregationHourUtc": 4,
    "scheduleEnabled": True,
    "requireSyntheticData": True,
}


@dataclass
class _Output:
    columns: list[tuple[str, str]]
    table: pa.Table
    filtered_rows: int = 0


class OneRowDatabase:
    """Answers every query with one (campaign, impressions) row and remembers each window it ran."""

    def __init__(self) -> None:
        self.windows: list[tuple[datetime, datetime]] = []

    def run(self, sql, *, window_start, window_end, parameters, disable_aggregation_controls) -> _Output:
        self.windows.append((window_start, window_end))
        table = pa.table({"campaign": ["Spring"], "impressions": [42]})
        return _Output([("campaign", "STRING"), ("impressions", "LONG")], table)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def database() -> OneRowDatabase:
    return OneRowDatabase()


@pytest.fixture
def sandbox(clock: ManualClock, database: OneRowDatabase):
    sandbox = Sandbox(SandboxConfig(clock=clock, data=DataSpec(today=date(2026, 4, 2))), database=database)
    yield sandbox
    sandbox.close()


@pytest.fixture
async def client(sandbox: Sandbox):
    """A client on the sandbox, which has the saved workflow ``reach``."""
    amc = AmcClient(
        Credentials("amzn1.application-oa2-client.sandbox", "sandbox-client-secret-1", "Atzr|sandbox-refresh-1"),
        endpoints=Endpoints("http://sandbox.test", "http://sandbox.test/auth/o2/token"),
        transport=SandboxTransport(sandbox.app),
        sleep=SimulatedClock().sleep,
        random=lambda: 0.5,
    )
    async with amc:
        await amc.create_workflow(INSTANCE, {"workflowId": "reach", "sqlQuery": SQL})
        yield amc


async def test_create_get_list_update_delete(client: AmcClient) -> None:
    await client.create_schedule(INSTANCE, SCHEDULE)
    got = await client.get_schedule(INSTANCE, "weekly-reach")
    assert got == {**SCHEDULE, "aggregationStartDay": "Sunday", "disableAggregationControls": False}
    assert await client.list_schedules(INSTANCE) == [got]

    weekly = {"aggregationPeriod": "Weekly", "aggregationStartDay": "Friday"}
    await client.update_schedule(INSTANCE, "weekly-reach", weekly)
    await client.update_schedule(INSTANCE, "weekly-reach", {"scheduleEnabled": False})
    assert await client.get_schedule(INSTANCE, "weekly-reach") == {
        **got,
        "aggregationPeriod": "Weekly",
        "aggregationStartDay": "Friday",
        "scheduleEnabled": False,
    }
    await client.delete_schedule(INSTANCE, "weekly-reach")
    assert await client.list_schedules(INSTANCE) == []


async def test_every_page_of_schedules_is_listed(client: AmcClient) -> None:
    for n in range(105):
        await client.create_schedule(INSTANCE, {**SCHEDULE, "scheduleId": f"s{n:03d}"})
    listed = await client.list_schedules(INSTANCE)
    assert [s["scheduleId"] for s in listed] == [f"s{n:03d}" for n in range(105)]


@pytest.mark.parametrize(
    ("call", "details"),
    [
        (lambda c: c.create_schedule(INSTANCE, {**SCHEDULE, "workflowId": "nope"}), "Workflow with ID nope"),
        (lambda c: c.create_schedule(INSTANCE, {**SCHEDULE, "aggregationPeriod": "Hourly"}), "aggregationPeriod"),
        (lambda c: c.get_schedule(INSTANCE, "ghost"), "Schedule with ID ghost does not exist."),
        (lambda c: c.update_schedule(INSTANCE, "ghost", {"scheduleEnabled": False}), "does not exist."),
        (lambda c: c.delete_schedule(INSTANCE, "ghost"), "Schedule with ID ghost does not exist."),
    ],
    ids=["unknown-workflow", "bad-period", "get-missing", "update-missing", "delete-missing"],
)
async def test_errors_carry_amc_details(client: AmcClient, call, details: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        await call(client)
    assert caught.value.status_code == 400
    assert details in (caught.value.details or "")


async def test_scheduled_executions_list_by_workflow_and_download(
    client: AmcClient, sandbox: Sandbox, clock: ManualClock, database: OneRowDatabase
) -> None:
    await client.create_schedule(INSTANCE, SCHEDULE)
    await client.create_execution(INSTANCE, {"workflow": {"sqlQuery": SQL}, "requireSyntheticData": True})
    clock.advance(10 * 86400)  # the sandbox's access token expires meanwhile: the client refreshes it
    await client.list_executions(INSTANCE)
    await sandbox.wait_idle()
    runs = await client.list_executions(INSTANCE, workflow_id="reach")
    assert len(runs) == 10
    assert {run.status for run in runs} == {"SUCCEEDED"}
    assert {run.raw["executionCategory"] for run in runs} == {"SCHEDULED"}
    ends = sorted(run.raw["timeWindowEnd"] for run in runs)
    assert ends == [f"{START.date() + timedelta(days=n)}T04:00:00Z" for n in range(1, 11)]
    assert len(await client.list_executions(INSTANCE)) == 11

    oldest = min(runs, key=lambda run: run.create_time or START)
    (url,) = await client.download_urls(INSTANCE, oldest.execution_id)
    sink = io.BytesIO()
    await client.download(url, sink)
    assert sink.getvalue().decode().splitlines() == ['"campaign","impressions"', '"Spring",42']
    assert (datetime(2026, 3, 1, 4), datetime(2026, 3, 2, 4)) in database.windows


async def test_a_disabled_schedule_runs_nothing(client: AmcClient, clock: ManualClock) -> None:
    await client.create_schedule(INSTANCE, SCHEDULE)
    await client.update_schedule(INSTANCE, "weekly-reach", {"scheduleEnabled": False})
    clock.advance(5 * 86400)
    assert await client.list_executions(INSTANCE, workflow_id="reach") == []
