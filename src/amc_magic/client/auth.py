"""Login-with-Amazon access tokens: fetched from a refresh token, renewed ahead of expiry.

One refresh is in flight at a time: concurrent callers wait on an ``asyncio.Lock`` and share the
new token. After AMC rejects a token (401) the client calls :meth:`LwaTokenProvider.refresh` with
the rejected token; if another task already replaced it, the newer token is returned without a
second trip to the token endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import httpx

from amc_magic.client.credentials import Credentials
from amc_magic.client.http import RequestSender
from amc_magic.client.responses import token_error
from amc_magic.client.retry import Clock
from amc_magic.errors import AuthenticationError

logger = logging.getLogger("amc_magic.client")

DEFAULT_LIFETIME = 3600.0


class TokenProvider(Protocol):
    """Where the client gets its bearer tokens."""

    async def token(self) -> str:
        """A token that is valid now."""
        ...

    async def refresh(self, rejected: str) -> str:
        """A token other than ``rejected``, which AMC just refused."""
        ...


class LwaTokenProvider:
    """Access tokens from Login with Amazon's ``refresh_token`` grant.

    Args:
        credentials: the app's client id and secret and the refresh token.
        token_url: the token endpoint, e.g. ``https://api.amazon.com/auth/o2/token``.
        sender: the request choke point (retries 429, 5xx and transport errors).
        clock: monotonic clock for expiry.
        refresh_margin: renew this many seconds before the token expires.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        token_url: str,
        sender: RequestSender,
        clock: Clock,
        refresh_margin: float = 300.0,
    ) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._sender = sender
        self._clock = clock
        self._margin = refresh_margin
        self._lock = asyncio.Lock()
        self._access_token: str | None = None
        self._renew_at = float("-inf")

    def __repr__(self) -> str:
        return f"LwaTokenProvider(client_id={self._credentials.client_id!r}, token_url={self._token_url!r})"

    async def token(self) -> str:
        """The current access token, fetching a new one if it is missing or about to expire."""
        if self._fresh():
            return self._access_token  # type: ignore[return-value]
        async with self._lock:
            if not self._fresh():
                await self._fetch()
            return self._access_token  # type: ignore[return-value]

    async def refresh(self, rejected: str) -> str:
        """A new access token, unless another task already replaced ``rejected``."""
        async with self._lock:
            if self._access_token is None or self._access_token == rejected or not self._fresh():
                await self._fetch()
            return self._access_token  # type: ignore[return-value]

    def _fresh(self) -> bool:
        return self._access_token is not None and self._clock() < self._renew_at

    async def _fetch(self) -> None:
        started = self._clock()
        request = httpx.Request(
            "POST",
            self._token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._credentials.refresh_token,
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
            },
            headers={"Accept": "application/json"},
        )
        response = await self._sender.send(request, to_error=token_error)
        try:
            body = response.json()
            access_token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError(
                "Login with Amazon answered without a usable access token.",
                status_code=response.status_code,
                hint="Check AMC_TOKEN_URL: it should be the Login-with-Amazon token endpoint.",
            ) from None
        self._access_token = access_token
        self._renew_at = started + max(lifetime - self._margin, lifetime / 2)
        logger.debug("Fetched a Login-with-Amazon access token valid for %.0f s", lifetime)
