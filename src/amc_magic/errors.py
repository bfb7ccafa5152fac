"""The one exception hierarchy of amc-magic.

Every error the package raises on purpose is an :class:`AmcMagicError`. Each carries a message
that says what is wrong and, where there is one, a ``hint`` that says what to do. In a notebook
the error prints as that message alone (IPython calls ``_render_traceback_``), yet it is still a
real exception, so nbclient, papermill and nbval runs fail on it.

::

    AmcMagicError
    ├── UserError                    bad input on our side; nothing was submitted
    │   ├── OptionError              a bad magic option, CLI flag or argument
    │   ├── ParameterError           a {{name}} that cannot be rendered as a SQL literal
    │   ├── WindowError              a time window that is malformed or out of range
    │   ├── SqlCheckError            the local SQL checks found errors (``.problems``)
    │   ├── ConfigurationError       missing credentials, unknown instance, bad database URL
    │   └── NotFoundError            no execution/workflow matches an id (or the id is ambiguous)
    ├── AmcApiError                  AMC answered with an error (``.status_code``, ``.code``, ``.details``)
    │   ├── AuthenticationError      401, or Login-with-Amazon refused the credentials
    │   ├── AccessDeniedError        403: wrong instance id or advertiser id
    │   ├── BadRequestError          400 and 422 (not retried)
    │   │   ├── CompileError         AMC could not compile the SQL
    │   │   └── ExecutionNotFound    "Workflow execution with ID … does not exist."
    │   ├── ThrottledError           429 (``.retry_after`` seconds)
    │   └── ServerError              5xx
    ├── TransportError               the request did not complete (connection, time-out)
    └── ExecutionError               an execution ended without a result
        ├── ExecutionFailed          AMC says FAILED or REJECTED (``.status_reason``)
        ├── ExecutionCancelled       the execution was cancelled
        └── ExecutionTimeout         we stopped waiting; the execution keeps running on AMC

Messages never contain client secrets, refresh tokens or access tokens: the client builds them
from AMC's response bodies and our own words only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Remedy(enum.StrEnum):
    """Something the user can do next, as a fact; each front end words it in its own syntax."""

    ATTACH = "attach"
    """Follow the execution (it is not lost) to its result."""
    CHECK_ONLY = "check_only"
    """Render and check the SQL without submitting it."""
    SKIP_CHECKS = "skip_checks"
    """Submit without the local checks and let AMC decide."""
    LIST_HISTORY = "list_history"
    """See the recent executions and backfills, with their ids."""
    LIST_WORKFLOWS = "list_workflows"
    """See the saved workflows, with their ids."""
    CONNECT = "connect"
    """Connect the instance once (its advertiser and marketplace ids are remembered)."""


@dataclass(frozen=True)
class NextStep:
    """A :class:`Remedy`, and the execution or instance it applies to (if any)."""

    remedy: Remedy
    execution_id: str | None = None
    instance_id: str | None = None


class AmcMagicError(Exception):
    """Base class of every error amc-magic raises on purpose.

    Attributes:
        message: what is wrong.
        hint: what to do, in words that hold for every front end.
        next_steps: what the user can do next, as values (see :mod:`amc_magic.wording`).
    """

    def __init__(self, message: str, *, hint: str | None = None, next_steps: tuple[NextStep, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.next_steps = next_steps

    def add_next_step(self, step: NextStep) -> None:
        """Add what the user can do next (known only to a layer above the one that raised)."""
        if step not in self.next_steps:
            self.next_steps = (*self.next_steps, step)

    def __str__(self) -> str:
        from .wording import NOTEBOOK, full_hint

        hint = full_hint(self, NOTEBOOK)
        return f"{self.message}\nHint: {hint}" if hint else self.message

    def _render_traceback_(self) -> list[str]:
        """Show only the message in IPython: the library's stack is noise to a notebook user."""
        return [f"{type(self).__name__}: {line}" if i == 0 else line for i, line in enumerate(str(self).splitlines())]


# --- user errors -----------------------------------------------------------------------------


class UserError(AmcMagicError):
    """Bad input detected locally; nothing was sent to AMC."""


class OptionError(UserError):
    """A magic option, CLI flag or function argument is not valid."""


class ParameterError(UserError):
    """A ``{{name}}`` placeholder cannot be rendered into a SQL literal."""

    def __init__(self, name: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.name = name


class WindowError(UserError):
    """A time window (start, end, window=, tz=) is malformed or out of range."""


class SqlCheckError(UserError):
    """The local SQL checks found at least one error."""

    def __init__(
        self, message: str, problems: list[Any], *, hint: str | None = None, next_steps: tuple[NextStep, ...] = ()
    ) -> None:
        super().__init__(message, hint=hint, next_steps=next_steps)
        self.problems = problems


class ConfigurationError(UserError):
    """Missing credentials, an unknown instance, a bad database URL and the like."""


class NotFoundError(UserError):
    """No execution or workflow matches the id given, or a prefix matches several."""


# --- AMC API errors --------------------------------------------------------------------------


class AmcApiError(AmcMagicError):
    """AMC (or the token endpoint) answered with an HTTP error."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        details: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        next_steps: tuple[NextStep, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint, next_steps=next_steps)
        self.status_code = status_code
        self.code = code
        self.details = details
        self.request_id = request_id


class AuthenticationError(AmcApiError):
    """401 from AMC after a token refresh, or Login-with-Amazon refused the credentials."""


class AccessDeniedError(AmcApiError):
    """403: the instance id or advertiser id is wrong, or the account has no access."""


class BadRequestError(AmcApiError):
    """400 or 422: AMC refused the request as it stands; retrying will not help."""


class CompileError(BadRequestError):
    """AMC could not compile the SQL."""


class ExecutionNotFound(BadRequestError):
    """AMC does not know the execution id (also seen briefly right after a create)."""


class ThrottledError(AmcApiError):
    """429: AMC asks us to slow down for ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(AmcApiError):
    """A 5xx answer from AMC."""


class TransportError(AmcMagicError):
    """The request did not complete: connection refused or dropped, or a time-out."""


# --- execution outcomes ----------------------------------------------------------------------


class ExecutionError(AmcMagicError):
    """An execution ended without a result."""

    def __init__(
        self,
        message: str,
        *,
        execution_id: str | None = None,
        status: str | None = None,
        status_reason: str | None = None,
        hint: str | None = None,
        next_steps: tuple[NextStep, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint, next_steps=next_steps)
        self.execution_id = execution_id
        self.status = status
        self.status_reason = status_reason


class ExecutionFailed(ExecutionError):
    """AMC reports the execution FAILED or REJECTED; ``status_reason`` is AMC's own reason."""


class ExecutionCancelled(ExecutionError):
    """The execution was cancelled (by the user, an interrupt, or on AMC)."""


class ExecutionTimeout(ExecutionError):
    """We stopped waiting after the client-side timeout; the execution keeps running on AMC."""


@dataclass(frozen=True)
class BackfillFailure:
    """One period of a backfill that ended without a result."""

    window_start: Any
    window_end: Any
    instance_id: str
    reason: str
    execution_id: str | None = None

    def describe(self) -> str:
        start, end = (_day_or_time(bound) for bound in (self.window_start, self.window_end))
        return f"{start} → {end} on {self.instance_id}: {self.reason}"


def _day_or_time(moment: Any) -> str:
    if moment is None:
        return "?"
    return moment.date().isoformat() if (moment.hour, moment.minute, moment.second) == (0, 0, 0) else moment.isoformat(sep=" ")


class BackfillError(ExecutionError):
    """Some periods of a backfill failed (``.failures``); the others are stored and cached."""

    def __init__(self, failures: list[BackfillFailure], *, total: int, backfill_id: str) -> None:
        listed = "\n".join(f"  {failure.describe()}" for failure in failures)
        super().__init__(
            f"{len(failures)} of {total} periods of backfill {backfill_id} failed:\n{listed}",
            hint="The other periods are stored; running the same cell again submits only the failed and missing ones.",
        )
        self.failures = failures
        self.total = total
        self.backfill_id = backfill_id
