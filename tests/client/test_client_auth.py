"""Login-with-Amazon tokens: fetched once, renewed ahead of expiry, one refresh at a time, 401 handling."""

import asyncio

import httpx
import pytest
from client_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE,
    REFRESH_TOKEN,
    LoginWithAmazon,
    Router,
    amc_error,
    execution_json,
    make_client,
)

from amc_magic.engine import SimulatedClock
from amc_magic.errors import AuthenticationError


def ok(request):
    return httpx.Response(200, json=execution_json())


async def test_token_request_is_a_refresh_token_grant_and_the_token_is_reused():
    router = Router(ok)
    async with make_client(router) as client:
        await client.get_execution(INSTANCE, "e-1")
        await client.get_execution(INSTANCE, "e-1")
    assert router.lwa.requests == [
        {
            "grant_type": "refresh_token",
            "refresh_token": REFRESH_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ]


async def test_token_is_renewed_ahead_of_expiry():
    clock = SimulatedClock()
    router = Router(ok)
    async with make_client(router, clock) as client:
        await client.get_execution(INSTANCE, "e-1")
        clock.advance(3000)  # 3600 s lifetime, renewed 300 s early
        await client.get_execution(INSTANCE, "e-1")
        assert len(router.lwa.requests) == 1
        clock.advance(301)
        await client.get_execution(INSTANCE, "e-1")
    assert len(router.lwa.requests) == 2
    assert router.requests[-1].headers["Authorization"] == "Bearer Atza|access-2-tokenvalue"


async def test_concurrent_calls_share_one_refresh():
    release = asyncio.Event()
    router = Router(ok, LoginWithAmazon(release=release))
    async with make_client(router) as client:
        calls = [asyncio.create_task(client.get_execution(INSTANCE, "e-1")) for _ in range(5)]
        await router.lwa.arrived.wait()
        for _ in range(10):  # let the other four reach the token lock
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*calls)
    assert len(router.lwa.requests) == 1
    assert len(router.requests) == 5


async def test_a_401_refreshes_once_and_retries():
    answers = iter([amc_error(401, "Authentication failed"), httpx.Response(200, json=execution_json())])
    router = Router(lambda request: next(answers))
    async with make_client(router) as client:
        execution = await client.get_execution(INSTANCE, "e-1")
    assert execution.execution_id == "e-1"
    assert len(router.lwa.requests) == 2
    assert [r.headers["Authorization"] for r in router.requests] == [
        "Bearer Atza|access-1-tokenvalue",
        "Bearer Atza|access-2-tokenvalue",
    ]


async def test_a_401_after_the_refresh_is_an_authentication_error():
    router = Router(lambda request: amc_error(401, "Authentication failed"))
    async with make_client(router) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_execution(INSTANCE, "e-1")
    assert caught.value.status_code == 401
    assert "AMC_REFRESH_TOKEN" in caught.value.hint
    assert len(router.requests) == 2 and len(router.lwa.requests) == 2


@pytest.mark.parametrize(
    ("refusal", "variable"),
    [((400, "invalid_grant"), "AMC_REFRESH_TOKEN"), ((401, "invalid_client"), "AMC_CLIENT_SECRET")],
    ids=["revoked-refresh-token", "wrong-client-secret"],
)
async def test_token_endpoint_refusals_name_the_variable_to_check(refusal, variable):
    router = Router(ok, LoginWithAmazon(error=refusal))
    async with make_client(router) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_accounts()
    assert variable in caught.value.hint
    assert caught.value.code == refusal[1]
    assert len(router.lwa.requests) == 1 and router.requests == []


async def test_token_endpoint_server_errors_are_retried():
    clock = SimulatedClock()
    router = Router(ok, LoginWithAmazon(failures=(503, 502)))
    async with make_client(router, clock) as client:
        await client.get_execution(INSTANCE, "e-1")
    assert clock.sleeps == [0.75, 1.5]
    assert router.requests[0].headers["Authorization"] == "Bearer Atza|access-3-tokenvalue"


async def test_a_token_url_that_is_no_token_endpoint_says_so():
    router = Router(ok, LoginWithAmazon(failures=(404,)))
    async with make_client(router) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_accounts()
    assert "AMC_TOKEN_URL" in caught.value.hint
    assert "404" in caught.value.message
