"""Time windows: turn ``start=``/``end=``/``window=``/``tz=`` into AMC's time-window request fields.

AMC runs a query over one time window, sent with the execution as ``timeWindowType`` and, for an
``EXPLICIT`` window, ``timeWindowStart``/``timeWindowEnd`` (``yyyy-MM-ddTHH:mm:ss``, no ``Z``,
read in ``timeWindowTimeZone``; the end is exclusive). The rules here:

- ``start``/``end`` are ISO dates or datetimes (strings, ``date``, ``datetime``). A date-only
  ``end`` is inclusive: ``end=2026-03-31`` ends the window at ``2026-04-01T00:00:00``. A datetime
  ``end`` is kept as given (exclusive). An aware datetime is converted to ``tz``. Fractions of a
  second are dropped (AMC's window fields have one-second resolution).
- ``window=`` is ``most_recent_day`` or ``most_recent_week`` (AMC picks the days), ``current_month``
  or ``previous_month`` (calendar months in ``tz``), or ``last_N_days`` (the N whole days before
  today in ``tz``, sent as an ``EXPLICIT`` window). With nothing given AMC's default applies,
  ``MOST_RECENT_DAY``.
- Errors (:class:`~amc_magic.errors.WindowError`): an unknown zone or window, an unparseable date,
  only one of start/end, start/end together with ``window=``, an end not after the start, and on a
  non-sandbox instance a start before AMC's 13-month retention, and a window wholly outside the days an
  instance is known to hold data for (the sandbox's synthetic data), naming that range.
- Warnings (``TimeWindow.warnings``): a window reaching into the last 48 hours, AMC's data latency,
  or starting in the future, or partly outside the instance's known data; the query still runs but the
  results may be incomplete.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ParameterError, WindowError

__all__ = ["TimeWindow", "WindowType", "resolve_window"]

RETENTION_MONTHS = 13
DATA_LATENCY = timedelta(hours=48)
_LAST_N_DAYS = re.compile(r"last_(\d+)_days")
_NAMED_WINDOWS = ("most_recent_day", "most_recent_week", "current_month", "previous_month", "last_N_days")


class WindowType(StrEnum):
    """AMC's ``timeWindowType`` values that amc-magic sends."""

    EXPLICIT = "EXPLICIT"
    MOST_RECENT_DAY = "MOST_RECENT_DAY"
    MOST_RECENT_WEEK = "MOST_RECENT_WEEK"
    CURRENT_MONTH = "CURRENT_MONTH"
    PREVIOUS_MONTH = "PREVIOUS_MONTH"


@dataclass(frozen=True)
class TimeWindow:
    """A resolved time window.

    Attributes:
        window_type: AMC's ``timeWindowType``.
        start: inclusive start, a naive datetime in ``time_zone``; ``None`` where AMC decides.
        end: exclusive end, a naive datetime in ``time_zone``; ``None`` where AMC decides.
        time_zone: IANA zone name, sent as ``timeWindowTimeZone``.
        warnings: reasons the results may be incomplete (not errors).
    """

    window_type: WindowType
    start: datetime | None
    end: datetime | None
    time_zone: str = "UTC"
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "window_type", WindowType(self.window_type))

    def request_fields(self) -> dict[str, str]:
        """The time-window fields of AMC's create-execution body."""
        fields = {"timeWindowType": self.window_type.value}
        if self.window_type is WindowType.EXPLICIT and self.start is not None and self.end is not None:
            fields["timeWindowStart"] = local_time_text(self.start, self.time_zone)
            fields["timeWindowEnd"] = local_time_text(self.end, self.time_zone)
        fields["timeWindowTimeZone"] = self.time_zone
        return fields

    def builtins(self) -> Mapping[str, datetime]:
        """``window_start`` and ``window_end`` for :func:`amc_magic.params.render`.

        The values are aware datetimes in ``time_zone``, so they render as UTC timestamps, like
        AMC's ``*_utc`` columns and ``BUILT_IN_PARAMETER('TIME_WINDOW_START')``. For windows only AMC
        can resolve (``most_recent_*``) reading a value raises
        :class:`~amc_magic.errors.ParameterError`.
        """
        return _WindowBuiltins(self)

    def describe(self) -> str:
        """One line for people, e.g. ``2026-03-01 → 2026-04-01 (America/New_York)``."""
        zone = f"({self.time_zone})"
        if self.start is None or self.end is None:
            return f"{_LABELS[self.window_type]}, chosen by AMC {zone}"
        span = f"{_format_bound(self.start)} → {_format_bound(self.end)} {zone}"
        if self.window_type is WindowType.EXPLICIT:
            return span
        return f"{_LABELS[self.window_type]}, {span}"


_LABELS = {
    WindowType.EXPLICIT: "explicit window",
    WindowType.MOST_RECENT_DAY: "most recent day",
    WindowType.MOST_RECENT_WEEK: "most recent week",
    WindowType.CURRENT_MONTH: "current month",
    WindowType.PREVIOUS_MONTH: "previous month",
}
_BUILTIN_FUNCTIONS = {"window_start": "TIME_WINDOW_START", "window_end": "TIME_WINDOW_END"}


class _WindowBuiltins(Mapping[str, datetime]):
    """``{{window_start}}``/``{{window_end}}``; reading one AMC alone can resolve raises."""

    def __init__(self, window: TimeWindow) -> None:
        self._window = window

    def __getitem__(self, name: str) -> datetime:
        if name not in _BUILTIN_FUNCTIONS:
            raise KeyError(name)
        bound = self._window.start if name == "window_start" else self._window.end
        if bound is None:
            raise ParameterError(
                name,
                f"{{{{{name}}}}} is not known before the query runs: "
                f"AMC picks the {_LABELS[self._window.window_type]} itself",
                hint=f"Use BUILT_IN_PARAMETER('{_BUILTIN_FUNCTIONS[name]}') in the SQL, "
                "or give explicit start=/end= (or window=last_N_days).",
            )
        return bound.replace(tzinfo=ZoneInfo(self._window.time_zone))

    def __contains__(self, name: object) -> bool:
        return name in _BUILTIN_FUNCTIONS

    def __iter__(self) -> Iterator[str]:
        return iter(_BUILTIN_FUNCTIONS)

    def __len__(self) -> int:
        return len(_BUILTIN_FUNCTIONS)


def resolve_window(
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    window: str | None = None,
    tz: str = "UTC",
    now: datetime,
    instance_type: str = "SANDBOX",
    data_days: tuple[date, date] | None = None,
) -> TimeWindow:
    """Resolve the magic's time-window options into a :class:`TimeWindow`.

    Args:
        start: ISO date or datetime (string, ``date`` or ``datetime``); inclusive.
        end: ISO date (inclusive) or datetime (exclusive).
        window: a named window instead of start/end (see the module docstring).
        tz: IANA time zone the window is read in.
        now: the current time (naive means UTC); "today" and "the last 48 hours" are relative to it.
        instance_type: AMC's ``instanceType``; any type but ``SANDBOX`` enforces the 13-month retention.
        data_days: the first and last (UTC) day the instance holds data for, when known (the sandbox).

    Returns:
        The window, with warnings when its results may be incomplete.

    Raises:
        WindowError: the options are malformed, contradictory or out of AMC's retention.
    """
    try:
        return _resolve(start, end, window, tz, now, instance_type, data_days)
    except (OverflowError, ValueError) as error:  # dates beyond the calendar, e.g. end=9999-12-31
        raise WindowError(
            f"The window cannot be computed: {error}.", hint="Use dates within AMC's data, e.g. start=2026-03-01 end=2026-03-31."
        ) from None


def _resolve(
    start: str | date | None,
    end: str | date | None,
    window: str | None,
    tz: str,
    now: datetime,
    instance_type: str,
    data_days: tuple[date, date] | None,
) -> TimeWindow:
    zone = _zone(tz)
    now_utc = now.astimezone(timezone.utc) if now.utcoffset() is not None else now.replace(tzinfo=timezone.utc)
    local_now = now_utc.astimezone(zone).replace(tzinfo=None)
    if window is not None:
        if start is not None or end is not None:
            raise WindowError(
                f"window={window} cannot be combined with start=/end=",
                hint="Use either window= or start= and end=, not both.",
            )
        window_type, first, last = _named_window(window, local_now)
    elif start is None and end is None:
        window_type, first, last = WindowType.MOST_RECENT_DAY, None, None
    else:
        window_type, first, last = WindowType.EXPLICIT, *_explicit_bounds(start, end, zone)
    if first is not None and instance_type.upper() != "SANDBOX":
        _check_retention(first, local_now)
    warnings = _latency_warnings(first, last, zone, now_utc)
    if data_days is not None and first is not None and last is not None:
        warnings += _data_range_warnings(first.replace(tzinfo=zone), last.replace(tzinfo=zone), data_days, warnings)
    return TimeWindow(window_type, first, last, tz, warnings)


AMC_LOCAL_TIME = "%Y-%m-%dT%H:%M:%S"


def local_time_text(moment: datetime, time_zone: str) -> str:
    """A window bound as AMC is sent it: the clock time in ``time_zone``, to the second.

    An aware ``moment`` is read in ``time_zone``; a naive one is taken as already in it. The one
    serialiser of a window bound: the request body and the cache key both use it.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(_zone(time_zone))
    return moment.strftime(AMC_LOCAL_TIME)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise WindowError(
            f"tz={tz!r} is not a known IANA time zone",
            hint="Use a name such as UTC, America/New_York or Europe/London.",
        ) from None


def _named_window(window: str, local_now: datetime) -> tuple[WindowType, datetime | None, datetime | None]:
    """Bounds of ``window=`` relative to the local "now" (naive, in the window's zone)."""
    name = window.strip().lower()
    today = datetime.combine(local_now.date(), time())
    month_start = today.replace(day=1)
    if name == "most_recent_day":
        return WindowType.MOST_RECENT_DAY, None, None
    if name == "most_recent_week":
        return WindowType.MOST_RECENT_WEEK, None, None
    if name == "current_month":
        return WindowType.CURRENT_MONTH, month_start, _shift_months(month_start, 1)
    if name == "previous_month":
        return WindowType.PREVIOUS_MONTH, _shift_months(month_start, -1), month_start
    match = _LAST_N_DAYS.fullmatch(name)
    if match and int(match.group(1)) >= 1:
        return WindowType.EXPLICIT, today - timedelta(days=int(match.group(1))), today
    raise WindowError(
        f"window={window!r} is not a known window",
        hint=f"Use one of {', '.join(_NAMED_WINDOWS)} (N a whole number of days, at least 1), "
        "or give start= and end=.",
    )


def _explicit_bounds(start: str | date | None, end: str | date | None, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if start is None or end is None:
        given, missing = ("start", "end") if end is None else ("end", "start")
        raise WindowError(
            f"{given}= was given without {missing}=",
            hint="Give both start= and end= (a date-only end is inclusive), or use window=, e.g. window=last_7_days.",
        )
    first = _parse_bound("start", start, zone, inclusive_date=False)
    last = _parse_bound("end", end, zone, inclusive_date=True)
    if last <= first:
        raise WindowError(
            f"end={_as_given(end)} must be after start={_as_given(start)}",  # as typed, not the exclusive end
            hint="A date-only end is inclusive: start=2026-03-01 end=2026-03-31 covers all of March.",
        )
    return first, last


def _parse_bound(option: str, value: str | date, zone: ZoneInfo, *, inclusive_date: bool) -> datetime:
    """A naive local datetime, whole seconds; a date-only inclusive end becomes the next midnight."""
    if isinstance(value, str):
        value = _parse_iso(option, value)
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(zone)
        return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second)
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1) if inclusive_date else value, time())
    raise WindowError(
        f"{option}= must be an ISO date or datetime, not {type(value).__name__}",
        hint=f"For example {option}=2026-03-01 or {option}=2026-03-01T06:00:00.",
    )


def _parse_iso(option: str, text: str) -> date:
    """Parse an ISO date (kept as a ``date``) or datetime."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise WindowError(
            f"{option}={text!r} is not an ISO date or datetime",
            hint=f"For example {option}=2026-03-01 or {option}=2026-03-01T06:00:00.",
        ) from None


def _check_retention(start: datetime, local_now: datetime) -> None:
    earliest = datetime.combine(_shift_months(local_now, -RETENTION_MONTHS).date(), time())
    if start < earliest:
        raise WindowError(
            f"start {_format_bound(start)} is before AMC's {RETENTION_MONTHS}-month data retention "
            f"(the earliest available day is {earliest.date()})",
            hint=f"AMC keeps the most recent {RETENTION_MONTHS} months; start on {earliest.date()} or later.",
        )


def _latency_warnings(
    start: datetime | None, end: datetime | None, zone: ZoneInfo, now_utc: datetime
) -> tuple[str, ...]:
    if start is None or end is None:
        return ()
    if start.replace(tzinfo=zone) >= now_utc:
        return ("The window starts in the future; AMC has no data for it yet.",)
    complete_until = now_utc - DATA_LATENCY
    if end.replace(tzinfo=zone) <= complete_until:
        return ()
    last_complete_day = complete_until.astimezone(zone).date() - timedelta(days=1)
    return (
        "The window reaches into the last 48 hours, and AMC's data can arrive up to 48 hours late, "
        f"so results may be incomplete; end={last_complete_day} or earlier gives complete data.",
    )


def _data_range_warnings(
    start: datetime, end: datetime, data_days: tuple[date, date], earlier: tuple[str, ...]
) -> tuple[str, ...]:
    """An error for a window wholly outside the instance's data; a warning for one partly outside it."""
    first, last = data_days
    data_start = datetime.combine(first, time(), tzinfo=timezone.utc)
    data_end = datetime.combine(last + timedelta(days=1), time(), tzinfo=timezone.utc)
    held = f"this instance holds data from {first} to {last} (UTC)"
    if end <= data_start or start >= data_end:
        raise WindowError(
            f"The window {_format_bound(start.replace(tzinfo=None))} → {_format_bound(end.replace(tzinfo=None))} "
            f"is wholly outside the data: {held}",
            hint=f"Choose dates between {first} and {last}, e.g. start={max(first, last - timedelta(days=6))} end={last}.",
        )
    if start < data_start:
        return (f"The window starts before the data: {held}, so the days before {first} return no rows.",)
    if end > data_end and not earlier:  # the 48-hour warning already covers a window ending today
        return (f"The window ends after the data: {held}, so the days after {last} return no rows.",)
    return ()


def _shift_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months away, the day clamped to the month's length."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


def _as_given(value: str | date) -> str:
    return value.strip() if isinstance(value, str) else value.isoformat()


def _format_bound(moment: datetime) -> str:
    return moment.date().isoformat() if moment.time() == time() else moment.isoformat(sep=" ", timespec="seconds")
