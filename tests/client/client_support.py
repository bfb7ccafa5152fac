"""Test doubles for the client: a Login-with-Amazon endpoint and a routing MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef, RetryPolicy
from amc_magic.engine import SimulatedClock

CLIENT_ID = "amzn1.application-oa2-client.testclient"
CLIENT_SECRET = "s3cr3t-client-secret-value"
REFRESH_TOKEN = "Atzr|refresh-token-value-xyz"
API_URL = "https://amc.test"
TOKEN_URL = "https://lwa.test/auth/o2/token"
INSTANCE = InstanceRef("amc1test01", "ENTITYTEST1", "ATVPDKIKX0DER")
REPORTING = f"/amc/reporting/{INSTANCE.instance_id}"

AmcHandler = Callable[[httpx.Request], httpx.Response]


def amc_error(status: int, details: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """An AMC-shaped error answer."""
    return httpx.Response(status, json={"code": str(status), "details": details, "requestId": "REQ1"}, headers=headers)


class LoginWithAmazon:
    """A token endpoint issuing ``Atza|access-N-tokenvalue`` tokens.

    Args:
        lifetime: ``expires_in`` of each token.
        error: ``(status, error code)`` to refuse every request with.
        failures: statuses to answer the first requests with (then it works).
        release: when given, answers wait for this event (to hold a refresh in flight); ``arrived``
            is set as soon as a request comes in.
    """

    def __init__(
        self,
        *,
        lifetime: int = 3600,
        error: tuple[int, str] | None = None,
        failures: tuple[int, ...] = (),
        release: asyncio.Event | None = None,
    ) -> None:
        self.lifetime = lifetime
        self.error = error
        self.failures = list(failures)
        self.release = release
        self.arrived = asyncio.Event()
        self.requests: list[dict[str, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.arrived.set()
        if self.release is not None:
            await self.release.wait()
        self.requests.append(dict(httpx.QueryParams(request.content.decode())))
        if self.failures:
            return httpx.Response(self.failures.pop(0))
        if self.error:
            status, code = self.error
            return httpx.Response(status, json={"error": code, "error_description": "Refused by the test."})
        token = f"Atza|access-{len(self.requests)}-tokenvalue"
        return httpx.Response(
            200,
            json={
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.lifetime,
                "refresh_token": REFRESH_TOKEN,
            },
        )


class Router:
    """Routes token requests to ``lwa`` and everything else to ``amc``, recording AMC requests."""

    def __init__(self, amc: AmcHandler, lwa: LoginWithAmazon | None = None) -> None:
        self.amc = amc
        self.lwa = lwa or LoginWithAmazon()
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return await self.lwa(request)
        self.requests.append(request)
        return self.amc(request)


def make_client(router: Router, clock: SimulatedClock | None = None, **kwargs: Any) -> AmcClient:
    """An AmcClient on ``router`` with simulated time and a fixed jitter of 0.5."""
    clock = clock or SimulatedClock()
    kwargs.setdefault("retry_policy", RetryPolicy())
    return AmcClient(
        Credentials(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN),
        endpoints=Endpoints(API_URL, TOKEN_URL),
        transport=httpx.MockTransport(router),
        sleep=clock.sleep,
        clock=clock.monotonic,
        random=lambda: 0.5,
        **kwargs,
    )


def execution_json(execution_id: str = "e-1", status: str = "PENDING", **extra: Any) -> dict[str, Any]:
    """An AMC execution object."""
    return {"workflowExecutionId": execution_id, "status": status, "workflowId": "transient_x", **extra}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
