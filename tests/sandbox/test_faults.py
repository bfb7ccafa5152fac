"""The sandbox's dialable faults, seen by a client: throttling, 5xx, eventual consistency, drops."""

from __future__ import annotations

import httpx
import pytest

from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import ManualClock, SandboxConfig
from sandbox_support import BASE, FakeDatabase, access_token, ad_hoc, amc_headers, api_client, assert_amc_error


def make_sandbox(**config: object) -> Sandbox:
    return Sandbox(SandboxConfig(clock=ManualClock(), **config), database=FakeDatabase())  # type: ignore[arg-type]


async def test_every_nth_call_is_throttled_with_retry_after() -> None:
    sandbox = make_sandbox(throttle_every=3, retry_after_seconds=7)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        statuses = [(await client.get(f"{BASE}/workflows", headers=headers)) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200, 200, 429, 200, 200, 429]
    throttled = statuses[2]
    assert throttled.headers["Retry-After"] == "7"
    assert_amc_error(throttled, 429)
    assert sandbox.calls["list_workflows"] == 6
    assert sandbox.calls["token"] == 1  # the token endpoint is outside the default fault scope


async def test_fault_scope_limits_faults_to_chosen_endpoints() -> None:
    sandbox = make_sandbox(throttle_every=1, fault_endpoints=frozenset({"get_execution"}))
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        created = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
        assert created.status_code == 200
        execution_id = created.json()["workflowExecutionId"]
        got = await client.get(f"{BASE}/workflowExecutions/{execution_id}", headers=headers)
    assert got.status_code == 429


async def test_server_errors_every_nth_call() -> None:
    sandbox = make_sandbox(server_error_every=2, server_error_status=502)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        responses = [await client.get(f"{BASE}/dataSources", headers=headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 502, 200, 502]
    assert_amc_error(responses[1], 502)


async def test_scripted_statuses_answer_the_first_calls_in_order() -> None:
    sandbox = make_sandbox(scripted_statuses=(503, None, 500, 429))
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        responses = [await client.get("/amc/accounts", headers=headers) for _ in range(6)]
    assert [r.status_code for r in responses] == [503, 200, 500, 429, 200, 200]
    assert responses[3].headers["Retry-After"] == "1"


async def test_new_execution_is_invisible_to_its_first_gets() -> None:
    sandbox = make_sandbox(unseen_gets=2)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        created = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
        execution_id = created.json()["workflowExecutionId"]
        url = f"{BASE}/workflowExecutions/{execution_id}"
        first, second, third = [await client.get(url, headers=headers) for _ in range(3)]
    for response in (first, second):
        assert_amc_error(response, 400, f"Workflow execution with ID {execution_id} does not exist.")
    assert third.status_code == 200
    assert third.json()["workflowExecutionId"] == execution_id


async def test_dropped_create_raises_remote_protocol_error_but_execution_exists() -> None:
    database = FakeDatabase()
    sandbox = Sandbox(SandboxConfig(clock=ManualClock(), dropped_creates=1, queue_seconds=60), database=database)
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
        listed = await client.get(f"{BASE}/workflowExecutions", headers=headers)
        retried = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
    executions = listed.json()["executions"]
    assert len(executions) == 1
    assert executions[0]["status"] == "PENDING"
    assert retried.status_code == 200  # only the first create drops
    assert sandbox.calls["create_execution"] == 2


async def test_failure_reason_fails_every_execution() -> None:
    sandbox = make_sandbox(failure_reason="Query exceeded the memory limit.")
    async with api_client(sandbox) as client:
        headers = amc_headers(await access_token(client))
        created = await client.post(f"{BASE}/workflowExecutions", headers=headers, json=ad_hoc())
        await sandbox.wait_idle()
        execution_id = created.json()["workflowExecutionId"]
        got = await client.get(f"{BASE}/workflowExecutions/{execution_id}", headers=headers)
        urls = await client.get(f"{BASE}/workflowExecutions/{execution_id}/downloadUrls", headers=headers)
    assert got.json()["status"] == "FAILED"
    assert got.json()["statusReason"] == "Query exceeded the memory limit."
    assert_amc_error(urls, 400, f"Execution with ID {execution_id} is unavailable for download.")


async def test_revoked_refresh_token_is_an_invalid_grant() -> None:
    sandbox = make_sandbox(rejected_refresh_tokens=frozenset({"Atzr|revoked"}))
    async with api_client(sandbox) as client:
        response = await client.post(
            "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|revoked",
                "client_id": "c",
                "client_secret": "s",
            },
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "Atzr|revoked" not in response.text
