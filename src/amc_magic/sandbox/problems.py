"""The sandbox's own errors: what it answers over HTTP, and why an execution fails.

The sandbox emulates AMC; it must not borrow the client's exception classes, or a change made
for the client would silently change the emulator. Its handlers raise :class:`ApiProblem` (the
app turns it into AMC's error body and status) and its queries raise :class:`QueryFailure` (the
execution ends FAILED with that ``statusReason``).
"""

from __future__ import annotations


class ApiProblem(Exception):
    """A request AMC would refuse: answered with ``status`` and AMC's ``{"code", "details"}`` body."""

    def __init__(self, status: int, details: str) -> None:
        super().__init__(details)
        self.status = status
        self.details = details


class CompileProblem(ApiProblem):
    """SQL AMC cannot compile (a 400 at submission, naming the line and column where it can)."""

    def __init__(self, details: str) -> None:
        super().__init__(400, details)


class QueryFailure(Exception):
    """The execution's query failed while running; ``reason`` becomes its ``statusReason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bad_request(details: str) -> ApiProblem:
    """A 400 with ``details`` as AMC's message."""
    return ApiProblem(400, details)


def forbidden(details: str) -> ApiProblem:
    """A 403 (wrong instance, advertiser or marketplace)."""
    return ApiProblem(403, details)


def unauthorized() -> ApiProblem:
    """A 401 (a missing, malformed or expired access token)."""
    return ApiProblem(401, "Authentication failed")
