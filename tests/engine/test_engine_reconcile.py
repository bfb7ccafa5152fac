"""No duplicate executions: an ambiguous create is reconciled against AMC's listing before any resend."""

import json

import httpx
import pytest
from engine_support import INSTANCE, FakeAmc, RecordingRecorder, make_engine

from amc_magic.engine import ExecutionRequest, SimulatedClock
from amc_magic.engine.reconcile import ReconcilePolicy, create_once
from amc_magic.errors import ServerError

REQUEST = ExecutionRequest(INSTANCE, sql="SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY campaign")


def creates(amc):
    return [r for r in amc.requests if r.method == "POST"]


def lists(amc):
    return [r for r in amc.requests if r.method == "GET" and r.url.path.endswith("/workflowExecutions")]


def on_create(answer_for_attempt):
    """A fault for create requests: ``answer_for_attempt(n, request)`` for the n-th create (1-based)."""
    count = 0

    def fault(request):
        nonlocal count
        if request.method != "POST":
            return None
        count += 1
        return answer_for_attempt(count, request)

    return fault


@pytest.fixture
def clock():
    return SimulatedClock()


async def test_a_dropped_create_is_adopted_not_repeated(clock):
    amc = FakeAmc(clock)

    def drop_after_creating(attempt, request):
        if attempt == 1:
            amc.add(json.loads(request.content))
            return httpx.RemoteProtocolError("Server disconnected without sending a complete response.")
        return None

    amc.faults.append(on_create(drop_after_creating))
    recorder = RecordingRecorder()
    result = await make_engine(amc).run(REQUEST, recorder=recorder)
    assert len(amc.executions) == 1 and len(creates(amc)) == 1
    [only] = amc.executions
    assert result.execution.execution_id == only
    assert ("submitted", only) in recorder.calls
    assert lists(amc)[0].url.params["includeWorkflow"] == "true"
    assert lists(amc)[0].url.params["minCreationTime"] == "2026-01-15T11:55:00Z"


async def test_a_create_that_never_arrived_is_resent(clock):
    amc = FakeAmc(clock)
    amc.faults.append(on_create(lambda n, r: httpx.ConnectError("refused") if n == 1 else None))
    await make_engine(amc).run(REQUEST)
    assert len(amc.executions) == 1 and len(creates(amc)) == 2 and not lists(amc)


async def test_a_5xx_that_created_nothing_is_looked_for_then_resent(clock):
    amc = FakeAmc(clock)
    amc.faults.append(on_create(lambda n, r: httpx.Response(500, json={"details": "boom"}) if n == 1 else None))
    await make_engine(amc).run(REQUEST)
    assert len(amc.executions) == 1 and len(creates(amc)) == 2
    assert len(lists(amc)) == 3 and clock.sleeps[:2] == [5.0, 5.0]


async def test_a_lagging_listing_is_looked_at_again(clock):
    amc = FakeAmc(clock)
    created = {}

    def time_out_after_creating(attempt, request):
        if attempt == 1:
            created["e"] = amc.add(json.loads(request.content))
            created["e"].created += 3  # listed (createTime >= since) only a little later
            return httpx.ReadTimeout("no answer")
        return None

    amc.faults.append(on_create(time_out_after_creating))
    hide = {"left": 1}

    def lagging_list(request):
        if request.method == "GET" and request.url.path.endswith("/workflowExecutions") and hide["left"]:
            hide["left"] -= 1
            return httpx.Response(200, json={"executions": []})
        return None

    amc.faults.append(lagging_list)
    result = await make_engine(amc).run(REQUEST)
    assert len(amc.executions) == 1 and len(creates(amc)) == 1 and len(lists(amc)) == 2
    assert result.execution.execution_id == created["e"].execution_id


async def test_persistent_ambiguous_failures_give_up_after_the_attempts(clock):
    amc = FakeAmc(clock)
    amc.faults.append(on_create(lambda n, r: httpx.Response(503, json={"details": "down"})))
    engine = make_engine(amc, reconcile=ReconcilePolicy(attempts=2, lookups=1))
    with pytest.raises(ServerError):
        await engine.run(REQUEST)
    assert not amc.executions and len(creates(amc)) == 2 and len(lists(amc)) == 2


async def test_only_the_marked_execution_is_adopted(clock):
    amc = FakeAmc(clock)
    amc.add({"workflow": {"sqlQuery": "SELECT 1\n-- amc-magic:someone-elses-mark"}})

    def drop_after_creating(attempt, request):
        if attempt == 1:
            amc.add(json.loads(request.content))
            return httpx.ReadError("connection reset")
        return None

    amc.faults.append(on_create(drop_after_creating))
    recorder = RecordingRecorder()
    result = await make_engine(amc).run(REQUEST, recorder=recorder)
    mark = recorder.calls[0][2]
    assert mark in amc.executions[result.execution.execution_id].body["workflow"]["sqlQuery"]
    assert len(amc.executions) == 2


async def test_saved_workflows_match_on_id_window_and_parameters(clock):
    amc = FakeAmc(clock)
    body = {"workflowId": "wf", "timeWindowStart": "2025-11-01T00:00:00", "timeWindowEnd": "2025-11-08T00:00:00"}
    amc.add({**body, "timeWindowStart": "2025-10-25T00:00:00", "timeWindowEnd": "2025-11-01T00:00:00"})

    def drop_after_creating(attempt, request):
        if attempt == 1:
            amc.add(json.loads(request.content))
            return httpx.RemoteProtocolError("dropped")
        return None

    amc.faults.append(on_create(drop_after_creating))
    client = make_engine(amc).client
    adopted = await create_once(client, INSTANCE, body, None, now=clock.now, sleep=clock.sleep)
    assert amc.executions[adopted.execution_id].body == body
    assert len(amc.executions) == 2 and len(creates(amc)) == 1
