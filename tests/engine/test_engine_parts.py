"""The engine's small parts: request bodies, the poll schedule, hints, the simulated clock, poll failures."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from engine_support import INSTANCE, Events, FakeAmc, make_engine

from amc_magic.client import AmcExecution
from amc_magic.engine import (
    ExecutionRequest,
    PollSchedule,
    SimulatedClock,
    failure_hint,
    recent_data_hint,
)
from amc_magic.engine.request import mark_sql
from amc_magic.errors import OptionError, ServerError


def test_request_body_for_ad_hoc_sql_with_an_aware_window():
    request = ExecutionRequest(
        INSTANCE,
        sql="SELECT 1  \n",
        start=datetime(2025, 11, 1, 4, tzinfo=UTC),  # EDT
        end=datetime(2025, 11, 8, 5, tzinfo=UTC),  # EST
        time_zone="America/New_York",
        options={"requireSyntheticData": True},
    )
    assert request.body("abc") == {
        "requireSyntheticData": True,
        "workflow": {"sqlQuery": "SELECT 1\n-- amc-magic:abc"},
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2025-11-01T00:00:00",
        "timeWindowEnd": "2025-11-08T00:00:00",
        "timeWindowTimeZone": "America/New_York",
    }
    assert request.body(None)["workflow"] == {"sqlQuery": "SELECT 1  \n"}


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"sql": "SELECT 1", "workflow_id": "wf"},
        {"sql": "SELECT 1", "start": datetime(2025, 1, 1)},
        {"sql": "SELECT 1", "start": datetime(2025, 1, 1), "end": datetime(2025, 1, 2), "time_window_type": "ALL"},
    ],
    ids=["nothing", "both", "half-window", "window-and-type"],
)
def test_malformed_requests_are_option_errors(arguments):
    with pytest.raises(OptionError):
        ExecutionRequest(INSTANCE, **arguments)


def test_mark_goes_on_its_own_last_line():
    assert mark_sql("SELECT 1 -- trailing comment", "m").splitlines() == [
        "SELECT 1 -- trailing comment",
        "-- amc-magic:m",
    ]


@pytest.mark.parametrize(
    ("age", "retry_after", "expected"),
    [(0, None, 1.0), (9, None, 1.0), (50, None, 5.0), (600, None, 60.0), (10_000, None, 60.0), (50, 30.0, 30.0)],
)
def test_poll_interval_grows_with_age_between_the_bounds(age, retry_after, expected):
    assert PollSchedule().interval(age, retry_after) == expected


@pytest.mark.parametrize("settings", [{"minimum": 0}, {"minimum": 10, "ceiling": 5}, {"ratio": -1}])
def test_poll_schedule_rejects_nonsense(settings):
    with pytest.raises(OptionError):
        PollSchedule(**settings)


def execution(reason=None, window_end="2025-11-08T00:00:00Z"):
    return AmcExecution.from_json(
        {"workflowExecutionId": "e", "status": "FAILED", "statusReason": reason, "timeWindowEnd": window_end}
    )


NOW = datetime(2025, 11, 12, tzinfo=UTC)


def test_hints_follow_the_failure_reason_and_the_window():
    assert "advertiser id" in failure_hint(execution("User is not authorized to access instance"), NOW)
    assert "SQL" in failure_hint(execution("Was unable to compile workflow x: line 1, column 2"), NOW)
    assert failure_hint(execution("Internal error"), NOW) is None
    assert "48 hours" in failure_hint(
        execution("Internal error", "2025-11-08T00:00:00Z"), datetime(2025, 11, 9, tzinfo=UTC)
    )
    assert recent_data_hint(execution(), NOW) is None
    assert recent_data_hint(execution(window_end=None), NOW) is None


async def test_simulated_sleepers_wake_in_time_order():
    clock, woke = SimulatedClock(), []

    async def sleeper(name, seconds):
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    await asyncio.gather(sleeper("late", 30), sleeper("early", 10), sleeper("middle", 20))
    assert woke == [("early", 10), ("middle", 20), ("late", 30)]
    assert clock.now() == datetime(2026, 1, 15, 12, 0, 30, tzinfo=UTC)


async def test_a_cancelled_sleeper_does_not_move_time():
    clock = SimulatedClock()
    timer = asyncio.create_task(clock.sleep(100))
    await asyncio.sleep(0)
    timer.cancel()
    await clock.sleep(1)
    assert clock.monotonic() == 1 and clock.sleeps == [1]


async def test_throttled_polls_wait_as_told_and_polling_goes_on():
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=20)
    throttled = {"left": 9}

    def throttle_status_calls(request):
        if request.method == "GET" and "/workflowExecutions/" in request.url.path and throttled["left"]:
            throttled["left"] -= 1
            return httpx.Response(429, json={"details": "slow"}, headers={"Retry-After": "40"})
        return None

    amc.faults.append(throttle_status_calls)
    events = Events()
    engine = make_engine(amc)
    result = await engine.run(ExecutionRequest(INSTANCE, sql="SELECT 1"), subscribers=[events])
    assert result.execution.status == "SUCCEEDED"
    assert clock.sleeps.count(40.0) == 9  # 7 inside the client's retries (its 300-s budget), 2 by the poll loop


async def test_polling_gives_up_after_repeated_failures():
    clock = SimulatedClock()
    amc = FakeAmc(clock, run_seconds=20)
    amc.faults.append(lambda r: httpx.Response(503) if r.method == "GET" else None)
    with pytest.raises(ServerError):
        await make_engine(amc, max_poll_failures=2).run(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    status_calls = [r for r in amc.requests if r.method == "GET"]
    assert len(status_calls) == 2 * 8  # two polls, each with the client's 8 attempts
