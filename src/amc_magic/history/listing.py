"""The history as a table a notebook user can read (``%amc history``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd

from amc_magic.durations import format_duration
from amc_magic.history.cache_key import zone_info
from amc_magic.history.records import SHORT_ID_LENGTH, ExecutionRecord

HISTORY_COLUMNS = ("id", "amc_id", "status", "instance", "window", "submitted", "duration", "rows", "sql")


def history_frame(records: Sequence[ExecutionRecord], now: datetime) -> pd.DataFrame:
    """Return one row per execution with short ids, the window, timing, rows and the SQL's first line.

    ``duration`` runs from submission to the end, or to ``now`` while the execution is live.
    """
    frame = pd.DataFrame(
        {
            "id": [record.short_id for record in records],
            "amc_id": [(record.amc_execution_id or "")[:SHORT_ID_LENGTH] for record in records],
            "status": [record.status for record in records],
            "instance": [record.instance_id for record in records],
            "window": [describe_window(record) for record in records],
            "submitted": pd.to_datetime([record.submitted_at for record in records], utc=True),
            "duration": pd.to_timedelta([_duration(record, now) for record in records]),
            "rows": pd.array([record.row_count for record in records], dtype="Int64"),
            "sql": [first_line(record.sql_template) for record in records],
        },
        columns=list(HISTORY_COLUMNS),
    )
    frame["duration"] = [None if pd.isna(d) else format_duration(d.total_seconds()) for d in frame["duration"]]
    frame["submitted"] = frame["submitted"].dt.floor("s")
    return frame


def describe_window(record: ExecutionRecord) -> str:
    """Return ``start → end`` in the execution's time zone, or the window type for relative windows."""
    if record.window_start is None or record.window_end is None:
        return record.window_type
    zone = zone_info(record.time_zone)
    start, end = record.window_start.astimezone(zone), record.window_end.astimezone(zone)
    at_midnight = all(bound.time() == datetime.min.time() for bound in (start, end))
    layout = "%Y-%m-%d" if at_midnight else "%Y-%m-%d %H:%M"
    text = f"{start:{layout}} → {end:{layout}}"
    return text if record.time_zone == "UTC" else f"{text} ({record.time_zone})"


def first_line(sql: str) -> str:
    """Return the first line of ``sql`` that is neither blank nor a ``--`` comment, stripped."""
    lines = [line.strip() for line in sql.splitlines() if line.strip()]
    return next((line for line in lines if not line.startswith("--")), lines[0] if lines else "")


def _duration(record: ExecutionRecord, now: datetime) -> timedelta | None:
    if record.submitted_at is None:
        return None
    if record.finished_at is not None:
        return record.finished_at - record.submitted_at
    return now - record.submitted_at if record.is_live else None
