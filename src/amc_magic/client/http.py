"""The one place where requests go on the wire: send, log (redacted), map errors, retry.

Every request the package makes (AMC API, Login with Amazon, result downloads) passes through
:meth:`RequestSender.send`. Logs carry the method, the URL without its query string (pre-signed
links are signed there), the status, the time taken and the headers with credentials masked.
Request and response bodies are never logged, so a token request's secrets and a token
response's access token cannot reach a log.

httpx itself logs every request's full URL at INFO; :class:`QueryStringRedaction`, installed on the
``httpx`` logger when a sender is created, masks query strings there too, since a pre-signed link's
signature (and possibly a session token) lives in its query string.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import BinaryIO

import httpx

from amc_magic.client.responses import ErrorMapper
from amc_magic.client.retry import Clock, Random, RetryPolicy, Sleep
from amc_magic.errors import TransportError

logger = logging.getLogger("amc_magic.client")

REDACTED = "***"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token"})
_CHUNK_SIZE = 1 << 16


class QueryStringRedaction(logging.Filter):
    """Masks the query string of any ``httpx.URL`` argument of a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) and a.query for a in record.args):
            record.args = tuple(
                a.copy_with(query=REDACTED.encode()) if isinstance(a, httpx.URL) and a.query else a for a in record.args
            )
        return True


def install_query_string_redaction(logger_name: str = "httpx") -> None:
    """Add :class:`QueryStringRedaction` to the named logger, once."""
    target = logging.getLogger(logger_name)
    if not any(isinstance(f, QueryStringRedaction) for f in target.filters):
        target.addFilter(QueryStringRedaction())


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials replaced by ``***``."""
    return {name: REDACTED if name.lower() in _SECRET_HEADERS else value for name, value in headers.items()}


def describe(request: httpx.Request) -> str:
    """``METHOD scheme://host/path``: how logs and messages name a request (no query string)."""
    url = request.url
    return f"{request.method} {url.scheme}://{url.netloc.decode('ascii')}{url.path}"


class RequestSender:
    """Sends requests through one ``httpx.AsyncClient`` with retries, logging and error mapping.

    Args:
        http: the client that owns the connection pool and the (injectable) transport.
        policy: bounds and pace of retries.
        sleep: how to wait between attempts.
        random: jitter source for the backoff.
        clock: monotonic clock, read against ``not_found_until`` deadlines and for timings.
    """

    def __init__(
        self, http: httpx.AsyncClient, *, policy: RetryPolicy, sleep: Sleep, random: Random, clock: Clock
    ) -> None:
        install_query_string_redaction()
        self._http = http
        self._policy = policy
        self._sleep = sleep
        self._random = random
        self._clock = clock

    async def send(
        self,
        request: httpx.Request,
        *,
        to_error: ErrorMapper,
        idempotent: bool = True,
        not_found_until: float | None = None,
        sink: BinaryIO | None = None,
    ) -> httpx.Response:
        """Send ``request``, retrying per the policy, and return the successful response.

        Args:
            request: the request; it is resent unchanged on a retry.
            to_error: builds the typed error for a status >= 400.
            idempotent: see :meth:`RetryPolicy.retrying`.
            not_found_until: see :meth:`RetryPolicy.retrying`.
            sink: when given, the body is streamed into it (emptied before each attempt) instead of
                being held in the response.

        Raises:
            AmcApiError: the mapped error of the last attempt.
            TransportError: the request did not complete on the last attempt.
        """
        retrying = self._policy.retrying(
            sleep=self._sleep,
            random=self._random,
            clock=self._clock,
            idempotent=idempotent,
            not_found_until=not_found_until,
            describe=describe(request),
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(request, to_error, sink)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(self, request: httpx.Request, to_error: ErrorMapper, sink: BinaryIO | None) -> httpx.Response:
        started = self._clock()
        if sink is not None:
            sink.seek(0)
            sink.truncate()
        try:
            response = await self._http.send(request, stream=sink is not None)
            try:
                if response.status_code >= 400:
                    await response.aread()
                elif sink is not None:
                    async for chunk in response.aiter_bytes(_CHUNK_SIZE):
                        sink.write(chunk)
            finally:
                if sink is not None:
                    await response.aclose()
        except httpx.TransportError as exc:
            logger.debug("%s failed: %s", describe(request), type(exc).__name__)
            raise TransportError(
                f"{describe(request)} did not complete ({type(exc).__name__}).",
                hint="Check the network connection and AMC_API_URL / AMC_TOKEN_URL.",
            ) from exc
        self._log(request, response, started)
        if response.status_code >= 400:
            raise to_error(response)
        return response

    def _log(self, request: httpx.Request, response: httpx.Response, started: float) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        logger.debug(
            "%s -> %d in %.0f ms; request headers %s",
            describe(request),
            response.status_code,
            (self._clock() - started) * 1000,
            redact_headers(request.headers),
        )
