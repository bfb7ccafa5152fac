"""What the REST API answers: executions as JSON objects, with AMC's status names and ISO times.

Only fields of the history row go out; the row holds no secret (credentials never reach the
history database), and no handler adds one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from amc_magic.history import ExecutionRecord
from amc_magic.history.listing import describe_window, sql_summary


def iso(value: datetime | None) -> str | None:
    """``2026-03-01T00:00:00Z`` (UTC, seconds or finer), or None."""
    if value is None:
        return None
    text = value.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def duration_seconds(record: ExecutionRecord, now: datetime) -> float | None:
    """From submission to the end, or to ``now`` while the execution is live."""
    if record.submitted_at is None:
        return None
    end = record.finished_at or (now if record.is_live else None)
    return None if end is None else round(max(0.0, (end - record.submitted_at).total_seconds()), 3)


def execution_summary(record: ExecutionRecord, now: datetime) -> dict[str, Any]:
    """One row of the executions table (``GET /amc-magic/api/executions``)."""
    columns = record.output_columns
    lease_expires = getattr(record, "lease_expires_at", None)
    lease_owner = getattr(record, "lease_owner", None)
    leased = lease_owner is not None and lease_expires is not None and lease_expires > now
    return {
        "id": record.id,
        "short_id": record.short_id,
        "amc_execution_id": record.amc_execution_id,
        "instance_id": record.instance_id,
        "workflow_id": record.workflow_id,
        "backfill_id": getattr(record, "backfill_id", None),
        "status": record.status,
        "status_reason": record.status_reason,
        "live": record.is_live,
        "window": describe_window(record),
        "window_start": iso(record.window_start),
        "window_end": iso(record.window_end),
        "time_zone": record.time_zone,
        "window_type": record.window_type,
        "created_at": iso(record.created_at),
        "submitted_at": iso(record.submitted_at),
        "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at),
        "last_polled_at": iso(record.last_polled_at),
        "poll_count": record.poll_count,
        "duration_seconds": duration_seconds(record, now),
        "row_count": record.row_count,
        "column_count": None if columns is None else len(columns),
        "has_result": record.row_count is not None,
        "sql_summary": sql_summary(record.sql_template),
        "lease": {"owner": lease_owner, "expires_at": iso(lease_expires)} if leased else None,
    }


def execution_detail(record: ExecutionRecord, now: datetime) -> dict[str, Any]:
    """Everything recorded about one execution (``GET /amc-magic/api/executions/{id}``)."""
    return {
        **execution_summary(record, now),
        "sql": record.rendered_sql,
        "sql_template": record.sql_template,
        "parameter_values": record.parameter_values,
        "output_columns": record.output_columns,
        "bytes_downloaded": record.bytes_downloaded,
        "cache_key": record.cache_key,
    }
