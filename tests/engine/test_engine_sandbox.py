"""The client and engine against the real sandbox, in-process, on a simulated clock."""

import logging

import pytest
from engine_sandbox_support import (
    SANDBOX_CREDENTIALS,
    SANDBOX_INSTANCE,
    RecordingTransport,
    TypedDatabase,
    sandbox_engine,
    sandbox_request,
)
from engine_support import Events, RecordingRecorder

from amc_magic.client import InstanceRef
from amc_magic.engine import SimulatedClock
from amc_magic.errors import AccessDeniedError, CompileError, ExecutionCancelled, ExecutionFailed, ExecutionTimeout
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.sandbox.transport import SandboxTransport

TYPED = {
    "campaign": "string",
    "impressions": "Int64",
    "total_cost": "float64",
    "product_sales": "float64",
    "new_to_brand": "boolean",
    "event_date_utc": "datetime64[us]",
    "first_seen_utc": "datetime64[us]",
}


@pytest.fixture
def clock():
    return SimulatedClock()


@pytest.fixture
def make_sandbox(clock):
    made = []

    def make(rows=5, **config):
        settings = {"clock": clock.now, "queue_seconds": 5, "run_seconds": 60, **config}
        sandbox = Sandbox(SandboxConfig(**settings), database=TypedDatabase(rows))
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.close()


def executions(sandbox):
    return sandbox.api.executions.all()


async def test_happy_path_with_multi_file_results_and_dtypes(make_sandbox, clock):
    sandbox = make_sandbox(rows=5, rows_per_file=2)
    events, recorder = Events(), RecordingRecorder()
    engine = sandbox_engine(sandbox, clock)
    result = await engine.run(sandbox_request(), recorder=recorder, subscribers=[events])
    await engine.client.aclose()
    frame = result.frame
    assert result.files == 3 and len(frame) == 5 and sandbox.calls["download"] == 3
    assert frame.dtypes.astype(str).to_dict() == TYPED
    assert frame["campaign"].isna().tolist() == [True, False, False, False, True]
    assert frame["impressions"].isna().tolist() == [True, False, False, True, False]
    assert frame["impressions"].sum() == 70
    assert frame["new_to_brand"].tolist() == [True, False, True, False, True]
    assert str(frame["first_seen_utc"].iloc[1]) == "2025-11-01 01:00:00"
    assert str(frame["event_date_utc"].iloc[4]) == "2025-11-05 00:00:00"
    assert [e.status for e in events if e.kind.value == "status"] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert recorder.names() == ["submitting", "submitted", "status", "status", "status", "result"]
    [execution] = executions(sandbox)
    assert execution.status.value == "SUCCEEDED" and execution.execution_id == result.execution.execution_id


async def test_a_token_expiring_mid_poll_is_refreshed_and_the_run_goes_on(make_sandbox, clock, caplog):
    sandbox = make_sandbox(run_seconds=900, token_lifetime_seconds=120)
    # The client believes tokens last 60 s longer than they do, so AMC's 401 comes first.
    engine = sandbox_engine(sandbox, clock, token_refresh_margin=-60)
    with caplog.at_level(logging.DEBUG, logger="amc_magic.client"):
        result = await engine.run(sandbox_request())
    await engine.client.aclose()
    assert result.execution.status == "SUCCEEDED"
    assert sandbox.calls["token"] >= 5
    assert caplog.text.count("/workflowExecutions/") and "-> 401" in caplog.text


async def test_tokens_are_renewed_before_they_expire(make_sandbox, clock, caplog):
    sandbox = make_sandbox(run_seconds=900, token_lifetime_seconds=600)
    engine = sandbox_engine(sandbox, clock)
    with caplog.at_level(logging.DEBUG, logger="amc_magic.client"):
        await engine.run(sandbox_request())
    await engine.client.aclose()
    assert sandbox.calls["token"] >= 2
    assert "-> 401" not in caplog.text


async def test_throttling_and_server_error_bursts_are_ridden_out(make_sandbox, clock):
    sandbox = make_sandbox(throttle_every=3, retry_after_seconds=7, server_error_every=5)
    engine = sandbox_engine(sandbox, clock)
    result = await engine.run(sandbox_request())
    await engine.client.aclose()
    assert result.execution.status == "SUCCEEDED" and len(executions(sandbox)) == 1
    assert 7 in clock.sleeps  # Retry-After honoured through the injected sleep
    assert any(wait in (0.75, 1.5) for wait in clock.sleeps)  # backoff after a 503


async def test_eventual_consistency_after_create(make_sandbox, clock):
    sandbox = make_sandbox(unseen_gets=3)
    engine = sandbox_engine(sandbox, clock)
    result = await engine.run(sandbox_request())
    await engine.client.aclose()
    assert result.execution.status == "SUCCEEDED"
    assert sandbox.calls["get_execution"] >= 4


async def test_a_wrong_advertiser_is_access_denied_with_the_hint(make_sandbox, clock):
    sandbox = make_sandbox()
    engine = sandbox_engine(sandbox, clock)
    wrong = InstanceRef(SANDBOX_INSTANCE.instance_id, "ENTITYWRONG", SANDBOX_INSTANCE.marketplace_id)
    with pytest.raises(AccessDeniedError) as caught:
        await engine.run(sandbox_request(instance=wrong))
    await engine.client.aclose()
    assert "advertiser id" in caught.value.hint and caught.value.status_code == 403
    assert not executions(sandbox)


async def test_a_compile_error_carries_amcs_details(make_sandbox, clock):
    sandbox = make_sandbox()
    engine = sandbox_engine(sandbox, clock)
    recorder = RecordingRecorder()
    with pytest.raises(CompileError) as caught:
        await engine.run(sandbox_request("SELECT * FROM dsp_impressions"), recorder=recorder)
    await engine.client.aclose()
    assert "Was unable to compile workflow" in caught.value.details
    assert recorder.names() == ["submitting"] and not executions(sandbox)


async def test_a_dropped_create_leaves_exactly_one_execution(make_sandbox, clock):
    sandbox = make_sandbox(dropped_creates=1)
    engine = sandbox_engine(sandbox, clock)
    result = await engine.run(sandbox_request())
    await engine.client.aclose()
    [only] = executions(sandbox)
    assert result.execution.execution_id == only.execution_id
    assert sandbox.calls["create_execution"] == 1 and sandbox.calls["list_executions"] >= 1


async def test_cancel_reaches_the_sandbox(make_sandbox, clock):
    sandbox = make_sandbox(run_seconds=3600)
    engine = sandbox_engine(sandbox, clock)
    events = Events()
    handle = engine.submit(sandbox_request(), subscribers=[events])
    await events.wait_for(lambda e: e.status == "RUNNING")
    handle.cancel()
    with pytest.raises(ExecutionCancelled):
        await handle
    await engine.client.aclose()
    assert executions(sandbox)[0].status.value == "CANCELLED"


async def test_a_timeout_leaves_the_sandbox_execution_running(make_sandbox, clock):
    sandbox = make_sandbox(run_seconds=3600)
    engine = sandbox_engine(sandbox, clock)
    with pytest.raises(ExecutionTimeout):
        await engine.run(sandbox_request(), timeout=300)
    await engine.client.aclose()
    assert executions(sandbox)[0].status.value == "RUNNING"


async def test_a_failed_execution_raises_with_the_sandbox_reason(make_sandbox, clock):
    sandbox = make_sandbox()
    engine = sandbox_engine(sandbox, clock)
    with pytest.raises(ExecutionFailed) as caught:
        await engine.run(sandbox_request(requireSyntheticData=False))
    await engine.client.aclose()
    assert "requireSyntheticData" in caught.value.status_reason


async def test_debug_logs_hold_no_secret_or_token(make_sandbox, clock, caplog):
    sandbox = make_sandbox(run_seconds=900, token_lifetime_seconds=120, throttle_every=4, dropped_creates=1)
    transport = RecordingTransport(SandboxTransport(sandbox.app))
    engine = sandbox_engine(sandbox, clock, transport=transport, token_refresh_margin=-60)
    with caplog.at_level(logging.DEBUG):
        await engine.run(sandbox_request())
    await engine.client.aclose()
    secrets = {SANDBOX_CREDENTIALS.client_secret, SANDBOX_CREDENTIALS.refresh_token, *transport.seen} - {""}
    assert len(transport.seen) >= 3 and "X-Amz-Signature" not in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
