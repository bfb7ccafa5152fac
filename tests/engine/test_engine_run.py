"""One execution end to end against a scripted AMC on a simulated clock."""

import asyncio
import json
import logging

import pandas as pd
import pytest
from engine_support import CSV, INSTANCE, Events, FakeAmc, RecordingRecorder, make_engine

from amc_magic.engine import ExecutionRequest, PollSchedule, SimulatedClock
from amc_magic.engine.request import MARK_PREFIX
from amc_magic.errors import ExecutionCancelled, ExecutionFailed, ExecutionNotFound, ExecutionTimeout, NextStep, Remedy

SQL = "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
REQUEST = ExecutionRequest(INSTANCE, sql=SQL, time_window_type="MOST_RECENT_WEEK")


@pytest.fixture
def clock():
    return SimulatedClock()


async def test_happy_path_events_recorder_and_typed_result(clock):
    amc = FakeAmc(clock, run_seconds=30)
    events, recorder = Events(), RecordingRecorder()
    result = await make_engine(amc).run(REQUEST, recorder=recorder, subscribers=[events])

    assert result.frame.to_dict("list") == {"campaign": ["Spring", "Summer"], "impressions": [10, 20]}
    assert result.frame.dtypes.astype(str).to_dict() == {"campaign": "string", "impressions": "Int64"}
    assert (result.files, result.size_bytes, result.execution.status) == (1, len(CSV), "SUCCEEDED")

    kinds = events.kinds()
    assert kinds[:2] == ["submitted", "status"] and kinds[-3:] == ["poll", "downloading", "done"]
    assert [e.status for e in events if e.kind.value == "status"] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert events[-1].rows == 2 and events[-1].columns == 2
    assert all(e.execution_id == result.execution.execution_id for e in events)

    assert recorder.names() == ["submitting", "submitted", "status", "status", "status", "result"]
    _, body, mark = recorder.calls[0]
    assert body["workflow"]["sqlQuery"] == f"{SQL}\n{MARK_PREFIX}{mark}"
    assert body["timeWindowType"] == "MOST_RECENT_WEEK"
    assert recorder.calls[-1] == ("result", (2, 2), ("campaign", "impressions"), len(CSV))
    assert sum(1 for c in recorder.calls if c == ("poll",)) == amc.status_calls()


async def test_polls_follow_the_adaptive_schedule_and_notice_the_end_promptly(clock):
    amc = FakeAmc(clock, run_seconds=3600)
    events = Events()
    await make_engine(amc).run(REQUEST, subscribers=[events])
    assert amc.status_calls() <= 103
    assert clock.monotonic() - 3600 <= 60
    assert clock.sleeps[:10] == [1.0] * 10
    assert all(b >= a for a, b in zip(clock.sleeps[10:], clock.sleeps[11:], strict=False))
    polls = [e for e in events if e.kind.value == "poll"]
    assert polls[0].next_poll_in == 1.0 and polls[-1].next_poll_in is None


async def test_a_custom_schedule_is_used(clock):
    amc = FakeAmc(clock, run_seconds=100)
    await make_engine(amc, schedule=PollSchedule(minimum=15, ratio=0, ceiling=15)).run(REQUEST)
    assert clock.sleeps == [15.0] * 7


async def test_failed_raises_with_amcs_reason_and_hints(clock):
    amc = FakeAmc(clock, outcome="FAILED", reason="Access denied to instance amc1test01 for advertiser ENTITYTEST1.")
    events, recorder = Events(), RecordingRecorder()
    with pytest.raises(ExecutionFailed) as caught:
        await make_engine(amc).run(REQUEST, recorder=recorder, subscribers=[events])
    error = caught.value
    assert error.status == "FAILED" and error.status_reason.startswith("Access denied")
    assert "advertiser id" in error.hint
    assert "48 hours" not in error.hint
    assert recorder.calls[-1] == ("status", "FAILED", error.status_reason)
    assert events[-1].kind.value == "failed" and events[-1].error is error


async def test_a_window_inside_the_last_48_hours_hints_at_incomplete_data():
    clock = SimulatedClock(start=pd.Timestamp("2025-12-01T12:00:00Z").to_pydatetime())
    amc = FakeAmc(clock, outcome="REJECTED", reason="Too many workflows ran against the same input.")
    with pytest.raises(ExecutionFailed) as caught:
        await make_engine(amc).run(REQUEST)
    assert caught.value.status == "REJECTED"
    assert "48 hours" in caught.value.hint


async def test_cancelled_on_amc_ends_in_execution_cancelled(clock):
    amc = FakeAmc(clock, run_seconds=100)
    events = Events()
    handle = make_engine(amc).submit(REQUEST, subscribers=[events])
    await events.wait_for(lambda e: e.status == "RUNNING")
    amc.executions[handle.execution_id].cancelled_at = clock.monotonic()
    with pytest.raises(ExecutionCancelled):
        await handle


async def test_cancel_sends_put_cancelled_and_records_it(clock):
    amc = FakeAmc(clock, run_seconds=1000)
    events, recorder = Events(), RecordingRecorder()
    handle = make_engine(amc).submit(REQUEST, recorder=recorder, subscribers=[events])
    await events.wait_for(lambda e: e.polls == 3)
    handle.cancel()
    with pytest.raises(ExecutionCancelled) as caught:
        await handle
    puts = [r for r in amc.requests if r.method == "PUT"]
    assert [json.loads(r.content) for r in puts] == [{"status": "CANCELLED"}]
    assert amc.executions[handle.execution_id].cancelled_at is not None
    assert recorder.calls[-1] == ("status", "CANCELLED", "Cancelled by the user.")
    assert events[-1].kind.value == "cancelled" and caught.value.execution_id == handle.execution_id


async def test_cancel_after_amc_finished_returns_the_result(clock):
    amc = FakeAmc(clock, run_seconds=5)
    events = Events()
    handle = make_engine(amc).submit(REQUEST, subscribers=[events])
    await events.wait_for(lambda e: e.status == "RUNNING")
    clock.advance(10)  # AMC finishes before the cancel arrives
    handle.cancel()
    result = await handle
    assert result.execution.status == "SUCCEEDED"


async def test_timeout_stops_waiting_and_leaves_the_execution_running(clock):
    amc = FakeAmc(clock, run_seconds=10_000)
    events = Events()
    with pytest.raises(ExecutionTimeout) as caught:
        await make_engine(amc).run(REQUEST, timeout=120, subscribers=[events])
    assert clock.monotonic() == pytest.approx(120)
    assert not [r for r in amc.requests if r.method == "PUT"]
    assert amc.running() == 1
    assert caught.value.status == "RUNNING"
    assert caught.value.next_steps == (NextStep(Remedy.ATTACH, caught.value.execution_id),)
    assert events[-1].kind.value == "timed_out"


async def test_task_cancellation_cancels_on_amc_then_propagates(clock):
    amc = FakeAmc(clock, run_seconds=1000)
    events = Events()
    handle = make_engine(amc).submit(REQUEST, subscribers=[events])
    await events.wait_for(lambda e: e.polls == 2)
    handle.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handle
    assert [r.method for r in amc.requests].count("PUT") == 1
    assert handle.status == "CANCELLED"


async def test_unknown_statuses_are_still_running_and_logged_once(clock, caplog):
    amc = FakeAmc(clock, run_seconds=20)
    original = amc._json

    def with_new_status(execution, include_workflow=False):
        body = original(execution, include_workflow)
        if body["status"] == "RUNNING":
            body["status"] = "WARMING_UP"
        return body

    amc._json = with_new_status
    with caplog.at_level(logging.WARNING, logger="amc_magic.engine"):
        result = await make_engine(amc).run(REQUEST)
    assert result.execution.status == "SUCCEEDED"
    assert caplog.text.count("unknown status 'WARMING_UP'") == 1


async def test_attach_polls_at_once_and_measures_age_from_amc(clock):
    amc = FakeAmc(clock, run_seconds=1000)
    existing = amc.add({"workflow": {"sqlQuery": SQL}})
    clock.advance(900)
    events, recorder = Events(), RecordingRecorder()
    result = await make_engine(amc).attach(INSTANCE, existing.execution_id, recorder=recorder, subscribers=[events])
    assert result.execution.execution_id == existing.execution_id
    assert clock.sleeps[0] == pytest.approx(60)  # 10 % of its 900 s age, not the 1 s of a new run
    assert events[0].kind.value == "status" and events[0].elapsed == pytest.approx(900)
    assert "submitting" not in recorder.names()


async def test_attach_to_an_unknown_execution_fails_at_once(clock):
    with pytest.raises(ExecutionNotFound):
        await make_engine(FakeAmc(clock)).attach(INSTANCE, "no-such-id")


async def test_a_failing_subscriber_does_not_stop_the_execution(clock, caplog):
    def broken(event):
        raise RuntimeError("display bug")

    result = await make_engine(FakeAmc(clock)).run(REQUEST, subscribers=[broken])
    assert result.execution.status == "SUCCEEDED"
    assert "subscriber failed" in caplog.text


async def test_a_saved_workflow_with_an_explicit_window(clock):
    amc = FakeAmc(clock)
    request = ExecutionRequest(
        INSTANCE,
        workflow_id="weekly-reach",
        start=pd.Timestamp("2025-11-01").to_pydatetime(),
        end=pd.Timestamp("2025-11-08").to_pydatetime(),
        time_zone="America/New_York",
        parameter_values={"campaigns": ["Spring"]},
    )
    recorder = RecordingRecorder()
    await make_engine(amc).run(request, recorder=recorder)
    _, body, mark = recorder.calls[0]
    assert mark is None
    assert body == {
        "workflowId": "weekly-reach",
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2025-11-01T00:00:00",
        "timeWindowEnd": "2025-11-08T00:00:00",
        "timeWindowTimeZone": "America/New_York",
        "parameterValues": {"campaigns": ["Spring"]},
    }
