"""Calendar periods of a backfill: ``every=day|week|month`` splits a window into one window per period.

Periods are calendar days, weeks (starting Monday, or Sunday with ``week_start="sunday"``) or months
of the window's own time zone, clipped to the window ``[start, end)``. A period cut by the window's
bounds is kept and marked ``partial``. Bounds are naive local datetimes, as in
:class:`~amc_magic.windows.TimeWindow`, so daylight-saving changes never shift a period: a day is
always midnight to midnight in its zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from .errors import OptionError

MAX_PERIODS = 2000
"""More periods than this is almost surely a mistake (``every=day`` over five years)."""


class Every(StrEnum):
    """The length of a backfill period."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class WeekStart(StrEnum):
    """The first day of a week."""

    MONDAY = "monday"
    SUNDAY = "sunday"


@dataclass(frozen=True)
class Period:
    """One period of a backfill: ``[start, end)`` in the window's zone (naive local datetimes)."""

    start: datetime
    end: datetime
    partial: bool = False


def split_periods(start: datetime, end: datetime, every: Every | str, week_start: WeekStart | str = WeekStart.MONDAY) -> list[Period]:
    """The calendar periods covering ``[start, end)``, in order; the first and last may be partial.

    Raises:
        OptionError: an unknown ``every`` or ``week_start``, an empty window, or too many periods.
    """
    every = _enum(Every, every, "every")
    week_start = _enum(WeekStart, week_start, "week_start")
    if end <= start:
        raise OptionError(f"A backfill needs a window with an end after its start, not {start} → {end}.")
    periods: list[Period] = []
    boundary = _period_start(start, every, week_start)
    while boundary < end:
        following = _next(boundary, every)
        periods.append(Period(max(boundary, start), min(following, end), partial=boundary < start or following > end))
        if len(periods) > MAX_PERIODS:
            raise OptionError(
                f"every={every} splits this window into more than {MAX_PERIODS} periods.",
                hint="Use a longer period (every=week or every=month) or a shorter window.",
            )
        boundary = following
    return periods


def _enum(kind: type[StrEnum], value: object, option: str) -> StrEnum:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        choices = "|".join(member.value for member in kind)
        raise OptionError(f"{option}={value} is not one of {choices}.", hint=f"Use {option}={choices}.") from None


def _period_start(moment: datetime, every: Every, week_start: WeekStart) -> datetime:
    """The start of the calendar period that contains ``moment``."""
    midnight = datetime.combine(moment.date(), time())
    if every is Every.DAY:
        return midnight
    if every is Every.WEEK:
        first_weekday = 0 if week_start is WeekStart.MONDAY else 6
        return midnight - timedelta(days=(midnight.weekday() - first_weekday) % 7)
    return midnight.replace(day=1)


def _next(boundary: datetime, every: Every) -> datetime:
    if every is Every.DAY:
        return boundary + timedelta(days=1)
    if every is Every.WEEK:
        return boundary + timedelta(days=7)
    return boundary.replace(year=boundary.year + boundary.month // 12, month=boundary.month % 12 + 1)
