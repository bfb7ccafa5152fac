"""The retry policy as a value: what is retried, how long it waits, when it stops."""

import httpx
import pytest

from amc_magic.client import RetryPolicy
from amc_magic.client.retry import may_have_arrived
from amc_magic.errors import (
    AccessDeniedError,
    AuthenticationError,
    CompileError,
    ExecutionNotFound,
    ServerError,
    ThrottledError,
    TransportError,
)


def transport_error(cause: Exception) -> TransportError:
    try:
        raise TransportError("did not complete") from cause
    except TransportError as exc:
        return exc


async def attempts(policy, failures, *, random=lambda: 0.5, clock=lambda: 0.0, **kwargs):
    """Run a retry loop whose attempts raise ``failures`` in turn, then succeed; return (calls, waits, error)."""
    waits, calls = [], 0

    async def sleep(seconds):
        waits.append(seconds)

    try:
        async for attempt in policy.retrying(sleep=sleep, random=random, clock=clock, **kwargs):
            with attempt:
                calls += 1
                if calls <= len(failures):
                    raise failures[calls - 1]
    except Exception as exc:  # the last error, re-raised by tenacity
        return calls, waits, exc
    return calls, waits, None


async def test_retry_after_is_honoured_exactly():
    calls, waits, error = await attempts(RetryPolicy(), [ThrottledError("slow", retry_after=7.0)])
    assert (calls, waits, error) == (2, [7.0], None)


@pytest.mark.parametrize(
    ("jitter", "expected"),
    [(0.0, [0.5, 1.0, 2.0, 4.0, 5.0]), (1.0, [1.0, 2.0, 4.0, 8.0, 10.0])],
    ids=["least-jitter", "most-jitter"],
)
async def test_server_errors_back_off_exponentially_with_jitter_up_to_a_cap(jitter, expected):
    policy = RetryPolicy(backoff_base=1.0, backoff_max=10.0)
    failures = [ServerError("boom", status_code=503)] * 5
    calls, waits, error = await attempts(policy, failures, random=lambda: jitter)
    assert (calls, waits, error) == (6, expected, None)


async def test_throttling_without_retry_after_backs_off():
    _, waits, _ = await attempts(RetryPolicy(), [ThrottledError("slow"), ThrottledError("slow")])
    assert waits == [0.75, 1.5]


async def test_attempts_are_bounded():
    failures = [ServerError("boom")] * 10
    calls, waits, error = await attempts(RetryPolicy(max_attempts=3), failures)
    assert calls == 3 and len(waits) == 2 and isinstance(error, ServerError)


async def test_total_waiting_time_is_bounded():
    calls, waits, error = await attempts(RetryPolicy(max_wait=60), [ThrottledError("slow", retry_after=30)] * 5)
    assert waits == [30, 30] and calls == 3 and isinstance(error, ThrottledError)
    calls, waits, error = await attempts(RetryPolicy(max_wait=60), [ThrottledError("slow", retry_after=600)])
    assert (calls, waits) == (1, []) and isinstance(error, ThrottledError)


@pytest.mark.parametrize(
    "error",
    [
        CompileError("bad sql", status_code=400),
        AccessDeniedError("no", status_code=403),
        AuthenticationError("no", status_code=401),
        ExecutionNotFound("gone", status_code=400),
    ],
    ids=["compile", "403", "401", "not-found-without-grace"],
)
async def test_errors_that_retrying_cannot_fix_fail_at_once(error):
    calls, waits, raised = await attempts(RetryPolicy(), [error])
    assert (calls, waits, raised) == (1, [], error)


async def test_not_found_is_retried_only_until_the_deadline():
    now = [0.0]

    def clock():
        return now[0]

    policy = RetryPolicy()
    calls, waits, error = await attempts(policy, [ExecutionNotFound("not yet")] * 2, clock=clock, not_found_until=60.0)
    assert (calls, waits, error) == (3, [0.75, 1.5], None)
    now[0] = 61.0
    calls, _, error = await attempts(policy, [ExecutionNotFound("gone")], clock=clock, not_found_until=60.0)
    assert calls == 1 and isinstance(error, ExecutionNotFound)


async def test_non_idempotent_requests_are_resent_only_when_they_never_left():
    refused = transport_error(httpx.ConnectError("refused"))
    dropped = transport_error(httpx.RemoteProtocolError("dropped"))
    timed_out = transport_error(httpx.ReadTimeout("slow"))
    assert (await attempts(RetryPolicy(), [refused], idempotent=False))[0] == 2
    for error in (dropped, timed_out, ServerError("boom", status_code=500)):
        calls, _, raised = await attempts(RetryPolicy(), [error], idempotent=False)
        assert (calls, raised) == (1, error)
    assert (await attempts(RetryPolicy(), [dropped, timed_out]))[0] == 3


def test_may_have_arrived_tells_ambiguous_failures_apart():
    assert may_have_arrived(ServerError("boom"))
    assert may_have_arrived(transport_error(httpx.ReadTimeout("slow")))
    assert not may_have_arrived(transport_error(httpx.ConnectError("refused")))
    assert not may_have_arrived(ThrottledError("slow"))
