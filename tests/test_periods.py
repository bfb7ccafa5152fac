"""Backfill periods: calendar days, weeks and months of the window's zone, clipped and marked partial."""

from __future__ import annotations

from datetime import datetime

import pytest

from amc_magic.errors import OptionError
from amc_magic.periods import MAX_PERIODS, Period, split_periods


def d(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_year_of_mondays_gives_52_whole_weeks():
    periods = split_periods(d("2025-03-03"), d("2026-03-02"), "week")  # both Mondays
    assert len(periods) == 52
    assert all(not p.partial and (p.end - p.start).days == 7 and p.start.weekday() == 0 for p in periods)
    assert [p.start for p in periods[1:]] == [p.end for p in periods[:-1]]


def test_partial_first_and_last_weeks_are_kept_and_marked():
    periods = split_periods(d("2026-03-04"), d("2026-03-20"), "week")  # Wednesday to Friday
    assert periods == [
        Period(d("2026-03-04"), d("2026-03-09"), partial=True),
        Period(d("2026-03-09"), d("2026-03-16")),
        Period(d("2026-03-16"), d("2026-03-20"), partial=True),
    ]


def test_weeks_can_start_on_sunday():
    periods = split_periods(d("2026-03-01"), d("2026-03-15"), "week", week_start="Sunday")
    assert [p.start.weekday() for p in periods] == [6, 6] and not any(p.partial for p in periods)


def test_months_have_their_calendar_lengths_across_a_year_end():
    periods = split_periods(d("2025-11-15"), d("2026-03-01"), "month")
    assert [(p.start.date().isoformat(), p.end.date().isoformat(), p.partial) for p in periods] == [
        ("2025-11-15", "2025-12-01", True),
        ("2025-12-01", "2026-01-01", False),
        ("2026-01-01", "2026-02-01", False),
        ("2026-02-01", "2026-03-01", False),
    ]


def test_days_are_local_midnights_even_across_a_daylight_saving_change():
    periods = split_periods(d("2026-03-07"), d("2026-03-10"), "day")  # New York springs forward on 03-08
    assert [p.start for p in periods] == [d("2026-03-07"), d("2026-03-08"), d("2026-03-09")]


def test_a_window_starting_mid_day_makes_a_partial_first_day():
    assert split_periods(d("2026-03-01T06:00"), d("2026-03-02"), "day") == [Period(d("2026-03-01T06:00"), d("2026-03-02"), partial=True)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((d("2026-03-01"), d("2026-03-02"), "hour"), "every=hour is not one of day|week|month"),
        ((d("2026-03-01"), d("2026-03-02"), "week", "friday"), "week_start=friday is not one of monday|sunday"),
        ((d("2026-03-02"), d("2026-03-01"), "day"), "end after its start"),
        ((d("2020-01-01"), d("2026-01-01"), "day"), f"more than {MAX_PERIODS} periods"),
    ],
    ids=["unknown-every", "unknown-week-start", "empty-window", "too-many"],
)
def test_mistakes_are_option_errors(args, message):
    with pytest.raises(OptionError) as info:
        split_periods(*args)
    assert message in info.value.message
