"""The history as a table a notebook user can read (``%amc history``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd

from amc_magic.counts import counted
from amc_magic.durations import format_duration
from amc_magic.history.cache_key import zone_info
from amc_magic.history.records import SHORT_ID_LENGTH, ExecutionRecord

HISTORY_COLUMNS = ("id", "amc_id", "status", "instance", "window", "submitted", "duration", "rows", "sql")


def history_frame(records: Sequence[ExecutionRecord], now: datetime) -> pd.DataFrame:
    """Return one row per execution with short ids, the window, timing, rows and the SQL on one line.

    The executions of a backfill share one row, where it first appears: its id (``bf_...``), its
    periods' statuses counted, the window they span, and their rows summed. ``duration`` runs from
    submission to the end, or to ``now`` while the execution is live.
    """
    rows: list[dict[str, object]] = []
    backfills: dict[str, list[ExecutionRecord]] = {}
    for record in records:
        if record.backfill_id is None:
            rows.append(_row(record, now))
        elif record.backfill_id not in backfills:
            backfills[record.backfill_id] = [record]
            rows.append({"backfill_id": record.backfill_id})
        else:
            backfills[record.backfill_id].append(record)
    rows = [_backfill_row(backfills[row["backfill_id"]], now) if "backfill_id" in row else row for row in rows]
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    frame["submitted"] = pd.to_datetime(frame["submitted"], utc=True).dt.floor("s")
    frame["rows"] = pd.array(frame["rows"].tolist(), dtype="Int64")
    return frame


def _row(record: ExecutionRecord, now: datetime) -> dict[str, object]:
    return {
        "id": record.short_id,
        "amc_id": (record.amc_execution_id or "")[:SHORT_ID_LENGTH],
        "status": record.status,
        "instance": record.instance_id,
        "window": describe_window(record),
        "submitted": record.submitted_at,
        "duration": _formatted(_duration(record, now)),
        "rows": record.row_count,
        "sql": sql_summary(record.sql_template),
    }


def _backfill_row(periods: list[ExecutionRecord], now: datetime) -> dict[str, object]:
    """One line for a backfill's executions: counts by status, the span, the rows in all."""
    counts = Counter(record.status for record in periods)
    status = " · ".join(f"{count} {name.lower()}" for name, count in sorted(counts.items()))
    starts = [r.window_start for r in periods if r.window_start is not None]
    ends = [r.window_end for r in periods if r.window_end is not None]
    first = min(periods, key=lambda r: r.window_start or r.created_at)
    span = replace(first, window_start=min(starts), window_end=max(ends)) if starts and ends else first
    submitted = [r.submitted_at for r in periods if r.submitted_at is not None]
    durations = [d for d in (_duration(r, now) for r in periods) if d is not None]
    return {
        "id": periods[0].backfill_id,
        "amc_id": counted(len(periods), "run"),
        "status": status,
        "instance": ",".join(sorted({r.instance_id for r in periods})),
        "window": describe_window(span),
        "submitted": min(submitted) if submitted else None,
        "duration": _formatted(max(durations)) if durations else None,
        "rows": sum(r.row_count or 0 for r in periods),
        "sql": sql_summary(first.sql_template),
    }


def _formatted(duration: object) -> str | None:
    seconds = pd.to_timedelta(duration) if duration is not None else None
    return None if seconds is None or pd.isna(seconds) else format_duration(seconds.total_seconds())


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


SQL_SUMMARY_WIDTH = 72
"""Characters of a query's one-line summary, ellipsis included."""


def sql_summary(sql: str, width: int = SQL_SUMMARY_WIDTH) -> str:
    """Return ``sql`` on one line for a listing: ``--`` comment lines dropped, whitespace runs as one space.

    Cut at ``width`` characters with an ellipsis, so that ``SELECT`` alone on its first line still shows
    what it selects from. A query that is only comments shows its first comment.
    """
    lines = [line.strip() for line in sql.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith("--")] or lines[:1]
    text = " ".join(" ".join(code).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _duration(record: ExecutionRecord, now: datetime) -> timedelta | None:
    if record.submitted_at is None:
        return None
    if record.finished_at is not None:
        return record.finished_at - record.submitted_at
    return now - record.submitted_at if record.is_live else None
