"""AMC's error answers become typed errors with hints; transient ones are retried through the injected sleep."""

import io

import httpx
import pytest
from client_support import INSTANCE, Router, amc_error, execution_json, make_client

from amc_magic.client.responses import ACCESS_HINT
from amc_magic.engine import SimulatedClock
from amc_magic.errors import (
    AccessDeniedError,
    BadRequestError,
    CompileError,
    ExecutionNotFound,
    ServerError,
    ThrottledError,
    TransportError,
)

COMPILE_DETAILS = (
    "Was unable to compile workflow transient_1. From line 6, column 12 to line 6, column 20: "
    "Number of columns must match number of query columns"
)


def scripted(*answers):
    """A handler giving ``answers`` in turn (an exception is raised), then 200 with an execution."""
    queue = list(answers)

    def handler(request):
        item = queue.pop(0) if queue else httpx.Response(200, json=execution_json())
        if isinstance(item, Exception):
            raise item
        return item

    return handler


async def call(handler, operation="get", clock=None):
    router = Router(handler)
    clock = clock or SimulatedClock()
    async with make_client(router, clock) as client:
        if operation == "get":
            result = await client.get_execution(INSTANCE, "e-1")
        else:
            result = await client.create_execution(INSTANCE, {"workflow": {"sqlQuery": "SELECT 1"}})
    return result, router, clock


async def test_403_says_to_check_the_instance_and_advertiser_ids():
    with pytest.raises(AccessDeniedError) as caught:
        await call(scripted(amc_error(403, "Advertiser X has no access to this resource.")))
    error = caught.value
    assert error.hint == ACCESS_HINT
    assert "ENTITY" in error.hint and "instance id" in error.hint
    assert (error.status_code, error.request_id) == (403, "REQ1")
    assert "has no access" in error.message


async def test_compile_errors_carry_amcs_details_and_are_not_retried():
    with pytest.raises(CompileError) as caught:
        await call(scripted(amc_error(400, COMPILE_DETAILS)), "create")
    assert caught.value.details == COMPILE_DETAILS
    assert COMPILE_DETAILS in str(caught.value)


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_other_client_errors_are_bad_requests(status):
    with pytest.raises(BadRequestError) as caught:
        await call(scripted(amc_error(status, "Invalid timeWindowType FOO.")))
    assert type(caught.value) is BadRequestError and caught.value.status_code == status


async def test_an_unknown_execution_is_not_found_at_once():
    router = Router(scripted(amc_error(400, "Workflow execution with ID e-1 does not exist.")))
    async with make_client(router) as client:
        with pytest.raises(ExecutionNotFound):
            await client.get_execution(INSTANCE, "e-1")
    assert len(router.requests) == 1


async def test_an_execution_just_created_is_waited_for_while_amc_catches_up():
    missing = amc_error(400, "Workflow execution with ID e-1 does not exist.")
    clock = SimulatedClock()
    router = Router(scripted(httpx.Response(200, json=execution_json()), missing, missing, missing))
    async with make_client(router, clock) as client:
        await client.create_execution(INSTANCE, {"workflow": {"sqlQuery": "SELECT 1"}})
        execution = await client.get_execution(INSTANCE, "e-1")
    assert execution.execution_id == "e-1"
    assert clock.sleeps == [0.75, 1.5, 3.0]


async def test_the_grace_period_for_a_new_execution_ends():
    missing = amc_error(400, "Workflow execution with ID e-1 does not exist.")
    clock = SimulatedClock()
    router = Router(scripted(httpx.Response(200, json=execution_json()), *[missing] * 20))
    async with make_client(router, clock, not_found_grace=10.0) as client:
        await client.create_execution(INSTANCE, {"workflow": {"sqlQuery": "SELECT 1"}})
        clock.advance(5)
        with pytest.raises(ExecutionNotFound):
            await client.get_execution(INSTANCE, "e-1")
    assert sum(clock.sleeps) >= 5 and clock.monotonic() < 5 + 10 + 16


async def test_429_waits_for_retry_after():
    throttled = amc_error(429, "Too Many Requests", {"Retry-After": "4"})
    _, router, clock = await call(scripted(throttled, throttled))
    assert clock.sleeps == [4.0, 4.0] and len(router.requests) == 3


async def test_retry_after_as_an_http_date():
    throttled = amc_error(
        429, "slow", {"Retry-After": "Thu, 15 Jan 2026 12:00:09 GMT", "Date": "Thu, 15 Jan 2026 12:00:00 GMT"}
    )
    _, _, clock = await call(scripted(throttled))
    assert clock.sleeps == [9.0]


async def test_a_5xx_burst_is_retried_with_backoff():
    _, router, clock = await call(scripted(amc_error(503, "x"), amc_error(500, "x"), amc_error(502, "x")))
    assert clock.sleeps == [0.75, 1.5, 3.0] and len(router.requests) == 4


async def test_persistent_5xx_gives_up_with_a_server_error():
    with pytest.raises(ServerError) as caught:
        await call(scripted(*[amc_error(503, "down")] * 20))
    assert caught.value.status_code == 503


async def test_transport_errors_are_retried_for_reads():
    _, router, clock = await call(scripted(httpx.ReadTimeout("slow"), httpx.ConnectError("refused")))
    assert len(router.requests) == 3 and len(clock.sleeps) == 2


async def test_an_ambiguous_create_failure_is_not_resent():
    router = Router(scripted(httpx.ReadTimeout("slow")))
    async with make_client(router) as client:
        with pytest.raises(TransportError) as caught:
            await client.create_execution(INSTANCE, {"workflow": {"sqlQuery": "SELECT 1"}})
    assert len(router.requests) == 1
    assert "ReadTimeout" in caught.value.message


async def test_a_throttled_create_is_resent():
    throttled = amc_error(429, "slow", {"Retry-After": "2"})
    execution, router, clock = await call(scripted(throttled), "create")
    assert execution.execution_id == "e-1" and clock.sleeps == [2.0] and len(router.requests) == 2


async def test_expired_download_link_is_an_access_error_without_the_url():
    xml = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message><StringToSign>x</StringToSign>"
    router = Router(lambda request: httpx.Response(403, content=xml))
    async with make_client(router) as client:
        with pytest.raises(AccessDeniedError) as caught:
            await client.download("https://s3.test/r/1.csv?X-Amz-Signature=abcdef", io.BytesIO())
    assert "expired" in caught.value.message
    assert "abcdef" not in str(caught.value) and "StringToSign" not in str(caught.value.details)


async def test_throttled_error_without_retry_after_is_typed():
    with pytest.raises(ThrottledError) as caught:
        await call(scripted(*[amc_error(429, "slow")] * 20))
    assert caught.value.retry_after is None
