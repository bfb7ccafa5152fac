"""An execution's time window, resolved the way AMC resolves it.

``EXPLICIT`` windows give ``timeWindowStart``/``timeWindowEnd`` as ``yyyy-MM-ddTHH:mm:ss`` read in
``timeWindowTimeZone`` (default UTC; a trailing ``Z`` marks a UTC time); the end is exclusive. The
relative windows count whole days in that zone back from the last day the data holds:
``MOST_RECENT_DAY`` that day, ``MOST_RECENT_WEEK`` the 7 days ending with it, ``CURRENT_MONTH`` its
month up to it, ``PREVIOUS_MONTH`` the whole month before, ``ALL`` everything the data holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .data import DataSpec
from .validation import bad_request, optional_str

WINDOW_TYPES = ("EXPLICIT", "MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH", "ALL")
_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z?")


@dataclass(frozen=True)
class ResolvedWindow:
    """A time window as the execution object reports it.

    Attributes:
        window_type: AMC's ``timeWindowType``.
        start: inclusive start, aware UTC.
        end: exclusive end, aware UTC.
        start_original: ``timeWindowStart`` as sent (EXPLICIT only).
        end_original: ``timeWindowEnd`` as sent (EXPLICIT only).
        time_zone_original: ``timeWindowTimeZone`` as sent, if it was.
    """

    window_type: str
    start: datetime
    end: datetime
    start_original: str | None
    end_original: str | None
    time_zone_original: str | None


def resolve_window(request: Mapping[str, Any], data: DataSpec) -> ResolvedWindow:
    """Resolve the time-window fields of a create-execution body; relative windows end with ``data``.

    Raises:
        ApiProblem (400): unknown window type or zone, a malformed bound, a missing bound for
            EXPLICIT, or an end not after the start.
    """
    window_type = optional_str(request, "timeWindowType") or "MOST_RECENT_DAY"
    if window_type not in WINDOW_TYPES:
        raise bad_request(f"Invalid timeWindowType {window_type}; expected one of {', '.join(WINDOW_TYPES)}.")
    tz_name = optional_str(request, "timeWindowTimeZone")
    zone = _zone(tz_name or "UTC")
    if window_type == "EXPLICIT":
        start_text = _required_bound(request, "timeWindowStart")
        end_text = _required_bound(request, "timeWindowEnd")
        start, end = _parse_bound(start_text, zone), _parse_bound(end_text, zone)
        if end <= start:
            raise bad_request("timeWindowEnd must be after timeWindowStart.")
        return ResolvedWindow(window_type, start, end, start_text, end_text, tz_name)
    first_day, end_day = _relative_days(window_type, data)
    return ResolvedWindow(
        window_type,
        _local_midnight(first_day, zone),
        _local_midnight(end_day, zone),
        None,
        None,
        tz_name,
    )


def reject_outside_data(window: ResolvedWindow, data: DataSpec) -> None:
    """A 400 for a window wholly outside the days ``data`` holds (a real instance keeps 13 months).

    Raises:
        ApiProblem (400): the window ends before the first day or starts after the last one.
    """
    data_start = datetime.combine(data.first_day, time(), tzinfo=UTC)
    data_end = datetime.combine(data.last_day + timedelta(days=1), time(), tzinfo=UTC)
    if window.end <= data_start or window.start >= data_end:
        raise bad_request(
            f"The time window {format_utc(window.start)} to {format_utc(window.end)} is outside this instance's "
            f"data, which runs from {data.first_day} to {data.last_day} (UTC)."
        )


def format_utc(moment: datetime, *, milliseconds: bool = False) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ``, AMC's timestamp format (``...ss.SSSZ`` with ``milliseconds``)."""
    moment = moment.astimezone(UTC)
    fraction = f".{moment.microsecond // 1000:03d}" if milliseconds else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"Invalid timeWindowTimeZone {name}.") from None


def _required_bound(request: Mapping[str, Any], key: str) -> str:
    value = optional_str(request, key)
    if not value:
        raise bad_request(f"{key} is required when timeWindowType is EXPLICIT.")
    return value


def _parse_bound(text: str, zone: ZoneInfo) -> datetime:
    if not _BOUND.fullmatch(text):
        raise bad_request(f"Invalid time {text}; expected yyyy-MM-ddTHH:mm:ss.")
    try:
        moment = datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        raise bad_request(f"Invalid time {text}; expected yyyy-MM-ddTHH:mm:ss.") from None
    return moment.replace(tzinfo=UTC if text.endswith("Z") else zone).astimezone(UTC)


def _relative_days(window_type: str, data: DataSpec) -> tuple[date, date]:
    """First day and exclusive end day of a relative window."""
    last = data.last_day
    month_start = last.replace(day=1)
    if window_type == "MOST_RECENT_DAY":
        return last, last + timedelta(days=1)
    if window_type == "MOST_RECENT_WEEK":
        return last - timedelta(days=6), last + timedelta(days=1)
    if window_type == "CURRENT_MONTH":
        return month_start, last + timedelta(days=1)
    if window_type == "PREVIOUS_MONTH":
        return (month_start - timedelta(days=1)).replace(day=1), month_start
    return data.first_day, last + timedelta(days=1)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
