"""The client's retry policy: a value that builds a ``tenacity.AsyncRetrying`` loop per request.

What is retried:

- 429 (``ThrottledError``): always, after AMC's ``Retry-After`` when it sends one.
- 5xx (``ServerError``) and transport failures (``TransportError``): with exponential backoff and
  jitter, but a non-idempotent request (creating an execution) is resent only when it surely never
  reached the server (the connection was not made); otherwise the caller reconciles first.
- "Workflow execution with ID … does not exist" (``ExecutionNotFound``): only until a deadline the
  caller gives, for an execution this process created moments ago (AMC is eventually consistent).

Nothing else is retried: compile errors, 400/422, 403 and 401 fail at once. Every loop is bounded
by a number of attempts and by the total time spent waiting between attempts. The sleep and the
random source are injected, so tests record the waits instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from amc_magic.errors import ExecutionNotFound, ServerError, ThrottledError, TransportError

Sleep = Callable[[float], Awaitable[None]]
"""An async sleep, ``asyncio.sleep`` in production."""

Clock = Callable[[], float]
"""A monotonic clock in seconds, ``time.monotonic`` in production."""

Random = Callable[[], float]
"""A uniform random number in [0, 1), ``random.random`` in production."""

logger = logging.getLogger("amc_magic.client")

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class stop_after_waiting(stop_base):  # noqa: N801 - named like tenacity's strategies
    """Stop when the waits so far plus the next one would pass ``max_wait`` seconds in total."""

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self.max_wait


def may_have_arrived(exc: BaseException) -> bool:
    """Whether a failed request may still have reached the server (so resending could act twice).

    True for a 5xx and for a transport failure after the connection was made (a time-out waiting
    for the answer, a dropped connection); false when the connection itself failed.
    """
    if isinstance(exc, ServerError):
        return True
    return isinstance(exc, TransportError) and not isinstance(exc.__cause__, _NOT_SENT)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and pace of the client's retries.

    Attributes:
        max_attempts: attempts per request, the first one included.
        max_wait: seconds a request may spend waiting between attempts in total; a ``Retry-After``
            that would pass it ends the retries at once.
        backoff_base: the first backoff in seconds; it doubles with each attempt.
        backoff_max: the largest backoff in seconds.
    """

    max_attempts: int = 8
    max_wait: float = 300.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0

    def retrying(
        self,
        *,
        sleep: Sleep,
        random: Random,
        clock: Clock,
        idempotent: bool = True,
        not_found_until: float | None = None,
        describe: str = "request",
    ) -> AsyncRetrying:
        """Build the retry loop for one request.

        Args:
            sleep: how to wait between attempts.
            random: jitter source.
            clock: the clock ``not_found_until`` is read against.
            idempotent: whether resending is harmless even if the server already acted on it.
            not_found_until: retry ``ExecutionNotFound`` until ``clock()`` reaches this.
            describe: how log lines name the request (no secrets).
        """

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, ThrottledError):
                return True
            if isinstance(exc, ServerError):
                return idempotent
            if isinstance(exc, TransportError):
                return idempotent or not may_have_arrived(exc)
            if isinstance(exc, ExecutionNotFound):
                return not_found_until is not None and clock() < not_found_until
            return False

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.info(
                "Retrying %s in %.1f s (attempt %d of %d failed: %s)",
                describe,
                state.upcoming_sleep,
                state.attempt_number,
                self.max_attempts,
                type(exc).__name__,
            )

        return AsyncRetrying(
            sleep=sleep,
            retry=retry_if_exception(should_retry),
            wait=self._wait(random),
            stop=stop_after_attempt(self.max_attempts) | stop_after_waiting(self.max_wait),
            before_sleep=log_retry,
            reraise=True,
        )

    def backoff(self, attempt: int, random: Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, half jittered."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * random())

    def _wait(self, random: Random) -> Callable[[RetryCallState], float]:
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ThrottledError) and exc.retry_after is not None:
                return exc.retry_after
            return self.backoff(state.attempt_number, random)

        return wait
