"""What the history store hands out: frozen records, execution statuses and the clock."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from amc_magic.wallclock import utc_now

__all__ = ["utc_now"]  # the store's default clock, re-exported for history modules

SHORT_ID_LENGTH = 8


def require_aware(value: datetime | None, name: str) -> datetime | None:
    """Return ``value`` if it is None or timezone-aware.

    Raises:
        ValueError: ``value`` is a naive datetime, whose meaning would depend on the machine.
    """
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} is a naive datetime ({value.isoformat()}); pass a timezone-aware one")
    return value


class ExecutionStatus(enum.StrEnum):
    """AMC's execution statuses, plus ``CREATING`` and ``ABANDONED`` of our own."""

    CREATING = "CREATING"
    """The row exists and the create request is on its way to AMC."""
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PUBLISHING = "PUBLISHING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    ABANDONED = "ABANDONED"
    """A ``CREATING`` row that never got an AMC id in time (its process died or hung)."""


LIVE_STATUSES = frozenset(
    {ExecutionStatus.CREATING, ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.PUBLISHING}
)
"""Statuses of an execution that may still produce a result; one per cache key at a time."""

FINAL_STATUSES = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.REJECTED,
        ExecutionStatus.ABANDONED,
    }
)
"""Statuses a row never leaves once it has one."""


@dataclass(frozen=True)
class InstanceRecord:
    """An AMC instance and the account (advertiser entity and marketplace) it belongs to."""

    instance_id: str
    entity_id: str
    marketplace_id: str
    api_url: str
    instance_type: str
    name: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class WorkflowRecord:
    """A saved workflow: a UUID ``id``, AMC's readable ``workflow_id`` and the SQL template."""

    id: str
    workflow_id: str
    name: str
    sql_template: str
    parameters: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    description: str | None = None


@dataclass(frozen=True)
class ExecutionRecord:
    """One execution: what was asked, of which instance, and how far it got.

    ``created_at`` is when the row was claimed (before the create request); ``submitted_at`` is
    when AMC answered with its execution id. ``workflow_id`` is the workflow's UUID, if any.
    """

    id: str
    amc_execution_id: str | None
    instance_id: str
    workflow_id: str | None
    sql_template: str
    rendered_sql: str
    parameter_values: dict[str, Any]
    options: dict[str, Any]
    cache_key: str | None
    window_start: datetime | None
    window_end: datetime | None
    time_zone: str
    window_type: str
    status: str
    status_reason: str | None
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    last_polled_at: datetime | None
    poll_count: int
    row_count: int | None
    output_columns: list[dict[str, Any]] | None
    bytes_downloaded: int | None
    backfill_id: str | None = None
    workflow_version: int | None = None
    """The version of the workflow (``workflow_id``) this execution ran, if any."""
    lease_owner: str | None = None
    """Who follows the execution to its end right now (see :mod:`amc_magic.history.leases`)."""
    lease_expires_at: datetime | None = None

    @property
    def short_id(self) -> str:
        """The first characters of the local id, enough to look the execution up again."""
        return self.id[:SHORT_ID_LENGTH]

    @property
    def is_live(self) -> bool:
        """True while the execution may still produce a result."""
        return self.status in LIVE_STATUSES

    @property
    def is_final(self) -> bool:
        """True once the status can no longer change."""
        return self.status in FINAL_STATUSES
