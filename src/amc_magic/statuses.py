"""Status names, defined once: AMC's execution statuses and the statuses of a job that runs one.

The history adds two of its own (``CREATING``, ``ABANDONED``: :class:`amc_magic.history.ExecutionStatus`).
Every value is a ``StrEnum``, so it compares equal to, and prints as, AMC's own spelling.
"""

from __future__ import annotations

from enum import StrEnum


class AmcStatus(StrEnum):
    """What AMC reports for an execution."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PUBLISHING = "PUBLISHING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


AMC_TERMINAL = frozenset({AmcStatus.SUCCEEDED, AmcStatus.FAILED, AmcStatus.CANCELLED, AmcStatus.REJECTED})
"""AMC statuses an execution never leaves."""


class JobStatus(StrEnum):
    """Where a job (``AmcJob``, a backfill's cell, a panel) stands: AMC's statuses and a few of ours."""

    QUEUED = "QUEUED"
    """Not started, or waiting for a slot under a concurrency cap."""
    STARTING = "STARTING"
    SUBMITTING = "SUBMITTING"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PUBLISHING = "PUBLISHING"
    DOWNLOADING = "DOWNLOADING"
    SUCCEEDED = "SUCCEEDED"
    CACHED = "CACHED"
    """Answered from the result cache: nothing ran on AMC."""
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED OUT"
    ABANDONED = "ABANDONED"


WITH_RESULT = frozenset({JobStatus.SUCCEEDED, JobStatus.CACHED})
"""Job statuses that come with a result."""

WITHOUT_RESULT = frozenset(
    {JobStatus.FAILED, JobStatus.REJECTED, JobStatus.CANCELLED, JobStatus.TIMED_OUT, JobStatus.ABANDONED}
)
"""Job statuses of an end without a result."""

NOT_STARTED = frozenset({JobStatus.QUEUED, JobStatus.STARTING, JobStatus.SUBMITTING, "CREATING"})
"""Job statuses before AMC has the execution."""


def bucket(status: str, *, ended: bool = False) -> str:
    """Where a job stands in a summary: ``done``, ``failed``, ``queued`` or ``running``.

    ``ended``: the job is over, so a status without a result (whatever AMC last said) is a failure.
    """
    if status in WITH_RESULT:
        return "done"
    if ended or status in WITHOUT_RESULT:
        return "failed"
    return "queued" if status in NOT_STARTED else "running"
