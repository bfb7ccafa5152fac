"""Status events an execution publishes to its subscribers (a status panel, a CLI progress line).

Subscribers are plain callables taking an :class:`ExecutionEvent`. They run on the engine's event
loop and should return quickly; an exception in one is logged and does not affect the execution.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from amc_magic.engine.eta import Eta
from amc_magic.errors import AmcMagicError


class EventKind(enum.StrEnum):
    """What happened."""

    QUEUED = "queued"
    """The instance's concurrency gate is full; the execution waits locally for a slot."""
    SUBMITTED = "submitted"
    """AMC accepted the execution; ``execution_id`` is set from now on."""
    STATUS = "status"
    """AMC reported a new status (``status``, ``status_reason``)."""
    POLL = "poll"
    """A status call returned; ``next_poll_in`` says when the next one is due."""
    DOWNLOADING = "downloading"
    """The execution succeeded and its ``files`` result files are being fetched."""
    DONE = "done"
    """The result is parsed (``rows``, ``columns``)."""
    FAILED = "failed"
    """The execution failed on AMC, or its result could not be fetched (``error``)."""
    CANCELLED = "cancelled"
    """The execution was cancelled (by us or on AMC)."""
    TIMED_OUT = "timed_out"
    """We stopped waiting; the execution keeps running on AMC."""


@dataclass(frozen=True)
class ExecutionEvent:
    """One event of one execution.

    Attributes:
        kind: what happened.
        instance_id: the AMC instance.
        execution_id: AMC's execution id, once submitted.
        status: the latest AMC status known (``None`` before the first answer).
        status_reason: AMC's ``statusReason`` with that status, if any.
        elapsed: seconds since the execution was created on AMC (for an attached execution, taken
            from AMC's ``createTime``), or since it was queued if not yet submitted.
        polls: status calls made so far by this task.
        next_poll_in: seconds until the next status call (``POLL`` events).
        files: result files to download (``DOWNLOADING``).
        rows: result rows (``DONE``).
        columns: result columns (``DONE``).
        error: the error that ended the execution (``FAILED``, ``CANCELLED``, ``TIMED_OUT``).
        eta: when the execution is expected to end (seconds after its creation, like ``elapsed``),
            if predicted from earlier runs.
    """

    kind: EventKind
    instance_id: str
    execution_id: str | None
    status: str | None
    status_reason: str | None
    elapsed: float
    polls: int
    next_poll_in: float | None = None
    files: int | None = None
    rows: int | None = None
    columns: int | None = None
    error: AmcMagicError | None = None
    eta: Eta | None = None


Subscriber = Callable[[ExecutionEvent], None]
"""Receives every event of an execution, in order."""
