"""AMC schedules on the sandbox: the endpoints, and one execution per elapsed period on a manual clock."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ManualClock
from sandbox_support import (
    AGGREGATE_SQL,
    BASE,
    access_token,
    ad_hoc,
    amc_headers,
    api_client,
    assert_amc_error,
    build_small_database,
    small_data_config,
)

START = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
"""A Thursday, inside the small dataset (2025-01-01 to 2026-01-13), so scheduled windows hold data."""
DAY = 86400
WORKFLOW = {"workflowId": "daily-impressions", "sqlQuery": AGGREGATE_SQL}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory):
    return build_small_database(tmp_path_factory.getbasetemp() / "sandbox-data")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def session(clock: ManualClock, database):
    """A sandbox on the manual clock (tokens outlive the test's weeks), a client, headers, a saved workflow."""
    sandbox = Sandbox(small_data_config(clock=clock, token_lifetime_seconds=90 * DAY), database=database)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        created = await client.post(f"{BASE}/workflows", headers=headers, json=WORKFLOW)
        assert created.status_code == 200, created.text
        yield sandbox, client, headers
    sandbox.close()


def schedule_body(**fields: object) -> dict:
    body = {
        "scheduleId": "every-day",
        "workflowId": WORKFLOW["workflowId"],
        "aggregationPeriod": "Daily",
        "aggregationHourUtc": 0,
        "scheduleEnabled": True,
        "requireSyntheticData": True,
    }
    return {**body, **fields}


async def create_schedule(client: httpx.AsyncClient, headers: dict, **fields: object) -> None:
    response = await client.post(f"{BASE}/schedules", headers=headers, json=schedule_body(**fields))
    assert response.status_code == 200, response.text
    assert response.json() == {}


async def executions(client: httpx.AsyncClient, headers: dict, **params: str) -> list[dict]:
    params = {"sortAscending": "true", **params}
    response = await client.get(f"{BASE}/workflowExecutions", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["executions"]


def windows(listed: list[dict]) -> list[tuple[str, str]]:
    return [(e["timeWindowStart"], e["timeWindowEnd"]) for e in listed]


# --- the endpoints ----------------------------------------------------------------------------


async def test_create_get_list_update_delete(session) -> None:
    _, client, headers = session
    await create_schedule(client, headers, aggregationHourUtc=6)
    got = await client.get(f"{BASE}/schedules/every-day", headers=headers)
    assert got.status_code == 200
    assert got.json() == {
        "scheduleId": "every-day",
        "workflowId": "daily-impressions",
        "aggregationPeriod": "Daily",
        "aggregationHourUtc": 6,
        "aggregationStartDay": "Thursday",  # the weekday the schedule was created
        "scheduleEnabled": True,
        "requireSyntheticData": True,
        "disableAggregationControls": False,
    }
    listed = (await client.get(f"{BASE}/schedules", headers=headers)).json()
    assert [s["scheduleId"] for s in listed["schedules"]] == ["every-day"]
    assert "nextToken" not in listed

    updated = await client.put(f"{BASE}/schedules/every-day", headers=headers, json={"scheduleEnabled": False})
    assert (updated.status_code, updated.json()) == (200, {})
    after = (await client.get(f"{BASE}/schedules/every-day", headers=headers)).json()
    assert after == {**got.json(), "scheduleEnabled": False}

    deleted = await client.delete(f"{BASE}/schedules/every-day", headers=headers)
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert_amc_error(await client.get(f"{BASE}/schedules/every-day", headers=headers), 400, "does not exist")
    assert (await client.get(f"{BASE}/schedules", headers=headers)).json() == {"schedules": []}


async def test_schedules_page_with_next_token(session) -> None:
    _, client, headers = session
    for n in range(3):
        await create_schedule(client, headers, scheduleId=f"s{n}")
    first = (await client.get(f"{BASE}/schedules", headers=headers, params={"limit": "2"})).json()
    assert [s["scheduleId"] for s in first["schedules"]] == ["s0", "s1"]
    rest = await client.get(f"{BASE}/schedules", headers=headers, params={"nextToken": first["nextToken"]})
    assert [s["scheduleId"] for s in rest.json()["schedules"]] == ["s2"]


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"scheduleId": None}, "Field scheduleId is required."),
        ({"scheduleId": "has space"}, "Invalid scheduleId has space"),
        ({"workflowId": None}, "Field workflowId is required."),
        ({"workflowId": "nope"}, "Workflow with ID nope does not exist."),
        ({"aggregationPeriod": None}, "Field aggregationPeriod is required."),
        ({"aggregationPeriod": "Monthly"}, "Invalid aggregationPeriod Monthly; expected Daily or Weekly."),
        ({"aggregationPeriod": "daily"}, "Invalid aggregationPeriod daily"),
        ({"aggregationStartDay": "Funday"}, "Invalid aggregationStartDay Funday"),
        ({"aggregationHourUtc": 24}, "Field aggregationHourUtc must be an integer between 0 and 23."),
        ({"aggregationHourUtc": -1}, "Field aggregationHourUtc must be an integer between 0 and 23."),
        ({"scheduleEnabled": "yes"}, "Field scheduleEnabled must be a boolean."),
        ({"cron": "0 6 * * *"}, 'Unrecognized field "cron" in request body.'),
    ],
    ids=lambda v: str(v)[:30],
)
async def test_create_validation_errors(session, fields: dict, details: str) -> None:
    _, client, headers = session
    body = {k: v for k, v in schedule_body(**fields).items() if v is not None}
    assert_amc_error(await client.post(f"{BASE}/schedules", headers=headers, json=body), 400, details)


async def test_conflicts_and_missing_schedules(session) -> None:
    _, client, headers = session
    await create_schedule(client, headers)
    duplicate = await client.post(f"{BASE}/schedules", headers=headers, json=schedule_body())
    assert_amc_error(duplicate, 400, "Schedule with ID every-day already exists.")
    mismatch = await client.put(f"{BASE}/schedules/every-day", headers=headers, json={"scheduleId": "other"})
    assert_amc_error(mismatch, 400, "does not match the scheduleId in the path")
    bad_update = await client.put(f"{BASE}/schedules/every-day", headers=headers, json={"aggregationPeriod": "Hourly"})
    assert_amc_error(bad_update, 400, "Invalid aggregationPeriod Hourly")
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(method, f"{BASE}/schedules/ghost", headers=headers, json={})
        assert_amc_error(response, 400, "Schedule with ID ghost does not exist.")
    in_use = await client.delete(f"{BASE}/workflows/daily-impressions", headers=headers)
    assert_amc_error(in_use, 400, "cannot be deleted: schedule every-day runs it")
    await client.delete(f"{BASE}/schedules/every-day", headers=headers)
    assert (await client.delete(f"{BASE}/workflows/daily-impressions", headers=headers)).status_code == 200


async def test_schedule_calls_are_counted_and_need_headers(session) -> None:
    sandbox, client, headers = session
    await client.get(f"{BASE}/schedules", headers=headers)
    assert sandbox.calls["list_schedules"] == 1
    assert_amc_error(await client.get(f"{BASE}/schedules"), 401)


# --- executions as periods elapse ---------------------------------------------------------------


@pytest.mark.parametrize("polls", [0, 1, 37])
async def test_ten_elapsed_days_give_exactly_ten_executions(session, clock: ManualClock, polls: int) -> None:
    sandbox, client, headers = session
    await create_schedule(client, headers)
    step = 10 * DAY / (polls + 1)
    for _ in range(polls):
        clock.advance(step)
        await executions(client, headers)
        await sandbox.wait_idle()  # let started queries finish before time jumps on (or they time out)
    clock.advance(10 * DAY - step * polls)
    await sandbox.wait_idle()
    listed = await executions(client, headers)
    assert len(listed) == 10
    days = [START.date() + timedelta(days=n) for n in range(11)]
    assert windows(listed) == [(f"{a}T00:00:00Z", f"{b}T00:00:00Z") for a, b in zip(days, days[1:], strict=False)]
    assert [e["createTime"] for e in listed] == [f"{d}T00:00:00Z" for d in days[1:]]
    assert {e["status"] for e in listed} == {"SUCCEEDED"}
    assert {e["executionCategory"] for e in listed} == {"SCHEDULED"}
    assert {e["workflowId"] for e in listed} == {"daily-impressions"}
    assert {e["requireSyntheticData"] for e in listed} == {True}
    assert len(await executions(client, headers)) == 10  # polling again changes nothing


async def test_a_scheduled_execution_downloads_with_its_period_as_window(session, clock: ManualClock) -> None:
    sandbox, client, headers = session
    await create_schedule(client, headers, aggregationHourUtc=6, disableAggregationControls=True)
    clock.advance(2 * DAY)
    await sandbox.wait_idle()
    first, second = await executions(client, headers)
    # created at 00:30, so the first period ends at 06:00 the same day
    assert (first["timeWindowStart"], first["timeWindowEnd"]) == ("2025-12-31T06:00:00Z", "2026-01-01T06:00:00Z")
    assert (second["timeWindowStart"], second["timeWindowEnd"]) == ("2026-01-01T06:00:00Z", "2026-01-02T06:00:00Z")
    urls = await client.get(f"{BASE}/workflowExecutions/{first['workflowExecutionId']}/downloadUrls", headers=headers)
    assert urls.status_code == 200, urls.text
    (csv_url,) = urls.json()["downloadUrls"]
    rows = (await client.get(csv_url)).text.splitlines()
    assert rows[0] == '"campaign","impressions"' and len(rows) > 1
    (metadata_url,) = urls.json()["metadataDownloadUrls"]
    metadata = (await client.get(metadata_url)).json()
    assert metadata["timeWindowStart"] == first["timeWindowStart"]
    assert metadata["timeWindowEnd"] == first["timeWindowEnd"]


async def test_weekly_schedule_runs_on_its_start_day(session, clock: ManualClock) -> None:
    sandbox, client, headers = session
    weekly = {"aggregationPeriod": "Weekly", "aggregationHourUtc": 5}
    await create_schedule(client, headers, scheduleId="mondays", aggregationStartDay="Monday", **weekly)
    await create_schedule(client, headers, scheduleId="thursdays", **weekly)
    clock.advance(6 * DAY)  # Wednesday 7 January, 00:30
    assert windows(await executions(client, headers)) == [
        ("2025-12-25T05:00:00Z", "2026-01-01T05:00:00Z"),  # Thursday (the creation weekday), 05:00
        ("2025-12-29T05:00:00Z", "2026-01-05T05:00:00Z"),  # Monday
    ]
    await sandbox.wait_idle()
    clock.advance(15 * DAY)  # Thursday 22 January, 00:30: that day's 05:00 run is not due yet
    await sandbox.wait_idle()
    listed = await executions(client, headers)
    assert [e["timeWindowEnd"][:10] for e in listed] == [
        "2026-01-01", "2026-01-05", "2026-01-08", "2026-01-12", "2026-01-15", "2026-01-19"
    ]
    assert {e["status"] for e in listed} == {"SUCCEEDED"}
    assert all(e["timeWindowEnd"].endswith("T05:00:00Z") for e in listed)


async def test_disabling_stops_new_executions(session, clock: ManualClock) -> None:
    _, client, headers = session
    await create_schedule(client, headers)
    clock.advance(3 * DAY)
    await client.put(f"{BASE}/schedules/every-day", headers=headers, json={"scheduleEnabled": False})
    clock.advance(4 * DAY)
    assert len(await executions(client, headers)) == 3
    await client.put(f"{BASE}/schedules/every-day", headers=headers, json={"scheduleEnabled": True})
    clock.advance(2 * DAY)
    listed = await executions(client, headers)
    assert [e["timeWindowStart"][:10] for e in listed] == [
        "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-08", "2026-01-09"
    ]  # the days it was disabled never run
    await client.delete(f"{BASE}/schedules/every-day", headers=headers)
    clock.advance(3 * DAY)
    assert len(await executions(client, headers)) == 5


async def test_periods_due_before_an_update_run_with_the_old_settings(session, clock: ManualClock) -> None:
    _, client, headers = session
    await create_schedule(client, headers, aggregationHourUtc=0)
    clock.advance(2 * DAY)  # two periods due; the update is the first request to see them
    await client.put(f"{BASE}/schedules/every-day", headers=headers, json={"aggregationHourUtc": 12})
    clock.advance(DAY)
    assert [e["timeWindowEnd"] for e in await executions(client, headers)] == [
        "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-03T12:00:00Z"
    ]


async def test_list_executions_filters_by_workflow(session, clock: ManualClock) -> None:
    sandbox, client, headers = session
    await create_schedule(client, headers)
    ad_hoc_run = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc(
        timeWindowType="EXPLICIT", timeWindowStart="2026-01-01T00:00:00", timeWindowEnd="2026-01-02T00:00:00"
    ))
    assert ad_hoc_run.status_code == 200, ad_hoc_run.text
    clock.advance(3 * DAY)
    assert len(await executions(client, headers)) == 4
    scheduled = await executions(client, headers, workflowId="daily-impressions")
    assert len(scheduled) == 3
    assert {e["executionCategory"] for e in await executions(client, headers)} == {"AD_HOC", "SCHEDULED"}


async def test_concurrent_polls_fire_each_period_once(session, clock: ManualClock) -> None:
    sandbox, client, headers = session
    await create_schedule(client, headers)
    clock.advance(10 * DAY)
    barrier = threading.Barrier(8)
    fired: list[int] = []

    def poll() -> None:
        barrier.wait()
        fired.append(sandbox.schedules.materialise())

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fired) == [0] * 7 + [10]
    results = await asyncio.gather(*(executions(client, headers) for _ in range(5)))
    assert {len(listed) for listed in results} == {10}


async def test_a_workflow_missing_a_parameter_value_gives_failed_runs(session, clock: ManualClock) -> None:
    sandbox, client, headers = session
    workflow = {
        "workflowId": "needs-campaigns",
        "sqlQuery": "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions "
        "WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign) GROUP BY campaign",
        "inputParameters": [{"name": "campaigns", "dataType": {"type": "ARRAY", "elementDataType": "STRING"}}],
    }
    assert (await client.post(f"{BASE}/workflows", headers=headers, json=workflow)).status_code == 200
    await create_schedule(client, headers, workflowId="needs-campaigns")
    clock.advance(DAY)
    await sandbox.wait_idle()
    (run,) = await executions(client, headers)
    assert run["status"] == "FAILED"
    assert "no value was given for input parameter campaigns" in run["statusReason"]
