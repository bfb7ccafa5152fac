"""Tests for time-window resolution: kinds, zones and DST, inclusive ends, warnings and errors."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from amc_magic.errors import ParameterError, WindowError
from amc_magic.params import render
from amc_magic.windows import TimeWindow, WindowType, resolve_window

NOW = datetime(2026, 4, 15, 12, 0, tzinfo=timezone.utc)
NY = "America/New_York"


def window_bounds(window: TimeWindow) -> tuple[str, str]:
    """The window as rendered into SQL: ``{{window_start}}``, ``{{window_end}}`` (UTC)."""
    rendered = render("{{window_start}}|{{window_end}}", {}, builtins=window.builtins())
    start, end = rendered.split("|")
    return start, end


# --- explicit windows ---------------------------------------------------------------------


def test_date_only_end_is_inclusive() -> None:
    window = resolve_window(start="2026-03-01", end="2026-03-31", now=NOW)
    assert window == TimeWindow(WindowType.EXPLICIT, datetime(2026, 3, 1), datetime(2026, 4, 1), "UTC", ())
    assert window.request_fields() == {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2026-03-01T00:00:00",
        "timeWindowEnd": "2026-04-01T00:00:00",
        "timeWindowTimeZone": "UTC",
    }
    assert window.describe() == "2026-03-01 → 2026-04-01 (UTC)"


def test_single_day_window() -> None:
    window = resolve_window(start="2026-03-01", end="2026-03-01", now=NOW)
    assert (window.start, window.end) == (datetime(2026, 3, 1), datetime(2026, 3, 2))


@pytest.mark.parametrize(
    ("start", "end", "expected_start", "expected_end"),
    [
        ("2026-03-01", "2026-03-31T00:00:00", datetime(2026, 3, 1), datetime(2026, 3, 31)),
        ("2026-03-01T06:30:00", "2026-03-02T06:30:00", datetime(2026, 3, 1, 6, 30), datetime(2026, 3, 2, 6, 30)),
        ("2026-03-01 06:30", " 2026-03-02 ", datetime(2026, 3, 1, 6, 30), datetime(2026, 3, 3)),
        (date(2026, 3, 1), date(2026, 3, 31), datetime(2026, 3, 1), datetime(2026, 4, 1)),
        (datetime(2026, 3, 1, 1), datetime(2026, 3, 31), datetime(2026, 3, 1, 1), datetime(2026, 3, 31)),
        (pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-31"), datetime(2026, 3, 1), datetime(2026, 3, 31)),
        ("2026-03-01T00:00:00.999", "2026-03-02T00:00:00.5", datetime(2026, 3, 1), datetime(2026, 3, 2)),
    ],
    ids=["datetime-end-exclusive", "datetimes", "space-separated", "date-objects", "datetime-objects", "timestamps",
         "fractions-dropped"],
)  # fmt: skip
def test_explicit_bounds(start: Any, end: Any, expected_start: datetime, expected_end: datetime) -> None:
    window = resolve_window(start=start, end=end, now=NOW)
    assert (window.window_type, window.start, window.end) == (WindowType.EXPLICIT, expected_start, expected_end)
    assert type(window.start) is datetime and window.start.tzinfo is None


def test_aware_bounds_are_converted_to_the_window_zone() -> None:
    window = resolve_window(start="2026-03-01T05:00:00Z", end="2026-03-02T05:00:00+00:00", tz=NY, now=NOW)
    assert (window.start, window.end) == (datetime(2026, 3, 1), datetime(2026, 3, 2))


def test_non_midnight_bounds_are_described_with_time() -> None:
    window = resolve_window(start="2026-03-01T06:30:00", end="2026-03-02", now=NOW)
    assert window.describe() == "2026-03-01 06:30:00 → 2026-03-03 (UTC)"
    assert window.request_fields()["timeWindowStart"] == "2026-03-01T06:30:00"


# --- time zones and DST -------------------------------------------------------------------


def test_new_york_window_across_spring_dst_change() -> None:
    window = resolve_window(start="2026-03-01", end="2026-03-31", tz=NY, now=NOW)
    assert window.request_fields() == {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2026-03-01T00:00:00",
        "timeWindowEnd": "2026-04-01T00:00:00",
        "timeWindowTimeZone": NY,
    }
    assert window.describe() == "2026-03-01 → 2026-04-01 (America/New_York)"
    # EST (UTC-5) at the start, EDT (UTC-4) after 2026-03-08: the SQL sees UTC, like AMC's *_utc columns.
    assert window_bounds(window) == ("'2026-03-01 05:00:00'", "'2026-04-01 04:00:00'")


def test_new_york_window_across_autumn_dst_change() -> None:
    window = resolve_window(start="2025-10-25", end="2025-11-05", tz=NY, now=NOW)
    assert window_bounds(window) == ("'2025-10-25 04:00:00'", "'2025-11-06 05:00:00'")


def test_last_n_days_uses_local_midnights_across_dst() -> None:
    now = datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)  # 2026-03-09 23:00 in New York (EDT)
    window = resolve_window(window="last_7_days", tz=NY, now=now)
    assert window.window_type is WindowType.EXPLICIT
    assert (window.start, window.end) == (datetime(2026, 3, 2), datetime(2026, 3, 9))
    assert window_bounds(window) == ("'2026-03-02 05:00:00'", "'2026-03-09 04:00:00'")  # 167 hours: one is lost to DST
    utc_window = resolve_window(window="last_7_days", now=now)
    assert (utc_window.start, utc_window.end) == (datetime(2026, 3, 3), datetime(2026, 3, 10))


def test_naive_now_means_utc() -> None:
    aware = resolve_window(window="current_month", tz=NY, now=datetime(2026, 4, 1, 2, 0, tzinfo=timezone.utc))
    naive = resolve_window(window="current_month", tz=NY, now=datetime(2026, 4, 1, 2, 0))
    assert aware == naive
    assert aware.start == datetime(2026, 3, 1)  # still March 31 in New York


# --- named windows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "window_type", "start", "end"),
    [
        ({}, WindowType.MOST_RECENT_DAY, None, None),
        ({"window": "most_recent_day"}, WindowType.MOST_RECENT_DAY, None, None),
        ({"window": "most_recent_week"}, WindowType.MOST_RECENT_WEEK, None, None),
        ({"window": " MOST_RECENT_WEEK "}, WindowType.MOST_RECENT_WEEK, None, None),
        ({"window": "current_month"}, WindowType.CURRENT_MONTH, datetime(2026, 4, 1), datetime(2026, 5, 1)),
        ({"window": "previous_month"}, WindowType.PREVIOUS_MONTH, datetime(2026, 3, 1), datetime(2026, 4, 1)),
        ({"window": "last_1_days"}, WindowType.EXPLICIT, datetime(2026, 4, 14), datetime(2026, 4, 15)),
        ({"window": "last_30_days"}, WindowType.EXPLICIT, datetime(2026, 3, 16), datetime(2026, 4, 15)),
    ],
    ids=["default", "most-recent-day", "most-recent-week", "case-and-spaces", "current-month", "previous-month",
         "last-1-day", "last-30-days"],
)  # fmt: skip
def test_named_windows(
    options: dict[str, str], window_type: WindowType, start: datetime | None, end: datetime | None
) -> None:
    window = resolve_window(now=NOW, **options)
    assert (window.window_type, window.start, window.end, window.time_zone) == (window_type, start, end, "UTC")


def test_previous_month_in_january_is_december() -> None:
    window = resolve_window(window="previous_month", now=datetime(2026, 1, 20, tzinfo=timezone.utc))
    assert (window.start, window.end) == (datetime(2025, 12, 1), datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("most_recent_day", {"timeWindowType": "MOST_RECENT_DAY", "timeWindowTimeZone": NY}),
        ("most_recent_week", {"timeWindowType": "MOST_RECENT_WEEK", "timeWindowTimeZone": NY}),
        ("current_month", {"timeWindowType": "CURRENT_MONTH", "timeWindowTimeZone": NY}),
        ("previous_month", {"timeWindowType": "PREVIOUS_MONTH", "timeWindowTimeZone": NY}),
        (
            "last_7_days",
            {
                "timeWindowType": "EXPLICIT",
                "timeWindowStart": "2026-04-08T00:00:00",
                "timeWindowEnd": "2026-04-15T00:00:00",
                "timeWindowTimeZone": NY,
            },
        ),
    ],
    ids=["most-recent-day", "most-recent-week", "current-month", "previous-month", "last-7-days"],
)
def test_request_fields(window: str, expected: dict[str, str]) -> None:
    assert resolve_window(window=window, tz=NY, now=NOW).request_fields() == expected


@pytest.mark.parametrize(("window", "name", "function"), [
    ("most_recent_day", "window_start", "TIME_WINDOW_START"),
    ("most_recent_week", "window_end", "TIME_WINDOW_END"),
], ids=["day-start", "week-end"])  # fmt: skip
def test_windows_only_amc_resolves_have_no_builtin_values(window: str, name: str, function: str) -> None:
    resolved = resolve_window(window=window, now=NOW)
    assert set(resolved.builtins()) == {"window_start", "window_end"}
    assert name in resolved.builtins()  # asking is fine; reading the value is the error
    with pytest.raises(ParameterError) as caught:
        render(f"SELECT {{{{{name}}}}}", {}, builtins=resolved.builtins())
    assert caught.value.name == name
    assert f"BUILT_IN_PARAMETER('{function}')" in str(caught.value.hint)
    assert resolved.describe() == f"{window.replace('_', ' ')}, chosen by AMC (UTC)"


def test_month_windows_have_computed_builtins() -> None:
    window = resolve_window(window="previous_month", tz=NY, now=NOW)
    assert window_bounds(window) == ("'2026-03-01 05:00:00'", "'2026-04-01 04:00:00'")
    assert window.describe() == "previous month, 2026-03-01 → 2026-04-01 (America/New_York)"
    sql = "WHERE impression_dt_utc >= {{ window_start }} AND impression_dt_utc < {{window_end}} AND campaign = {{c}}"
    assert render(sql, {"c": "x"}, builtins=window.builtins()) == (
        "WHERE impression_dt_utc >= '2026-03-01 05:00:00' AND impression_dt_utc < '2026-04-01 04:00:00'"
        " AND campaign = 'x'"
    )


def test_builtins_mapping_only_knows_window_names() -> None:
    builtins = resolve_window(window="last_1_days", now=NOW).builtins()
    assert len(builtins) == 2
    assert "campaigns" not in builtins
    with pytest.raises(KeyError):
        builtins["campaigns"]


# --- warnings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"start": "2026-03-01", "end": "2026-03-31"}, None),
        ({"start": "2026-04-01", "end": "2026-04-13T12:00:00"}, None),
        ({"start": "2026-04-01", "end": "2026-04-13T12:00:01"}, "end=2026-04-12 or earlier"),
        ({"start": "2026-04-01", "end": "2026-04-15"}, "last 48 hours"),
        ({"window": "last_7_days"}, "results may be incomplete"),
        ({"window": "current_month"}, "last 48 hours"),
        ({"window": "previous_month"}, None),
        ({"window": "most_recent_day"}, None),
        ({"start": "2026-05-01", "end": "2026-05-31"}, "starts in the future"),
    ],
    ids=["past", "ends-exactly-48h-ago", "one-second-inside", "ends-today", "last-n-days", "current-month",
         "previous-month", "amc-chooses", "future"],
)  # fmt: skip
def test_latency_warnings(options: dict[str, str], expected: str | None) -> None:
    warnings = resolve_window(now=NOW, **options).warnings
    if expected is None:
        assert warnings == ()
    else:
        assert len(warnings) == 1 and expected in warnings[0]


def test_previous_month_warns_on_the_first_day_of_a_month() -> None:
    window = resolve_window(window="previous_month", now=datetime(2026, 4, 1, 12, tzinfo=timezone.utc))
    assert len(window.warnings) == 1


def test_latency_warning_is_computed_in_the_window_zone() -> None:
    # 48 hours before NOW is 2026-04-13 08:00 in New York: April 12 is the last complete local day.
    assert resolve_window(start="2026-04-01", end="2026-04-12", tz=NY, now=NOW).warnings == ()
    warnings = resolve_window(start="2026-04-01", end="2026-04-13", tz=NY, now=NOW).warnings
    assert "end=2026-04-12 or earlier" in warnings[0]


# --- retention ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "now", "ok"),
    [
        ({"start": "2025-03-15", "end": "2025-04-01"}, NOW, True),
        ({"start": "2025-03-14", "end": "2025-04-01"}, NOW, False),
        ({"start": "2025-03-14T23:59:59", "end": "2025-04-01"}, NOW, False),
        ({"window": "last_396_days"}, NOW, True),
        ({"window": "last_397_days"}, NOW, False),
        ({"start": "2025-02-28", "end": "2025-03-01"}, datetime(2026, 3, 31, tzinfo=timezone.utc), True),
        ({"start": "2025-02-27", "end": "2025-03-01"}, datetime(2026, 3, 31, tzinfo=timezone.utc), False),
    ],
    ids=["earliest-day", "day-before", "second-before", "last-396-days", "last-397-days", "clamped-month-end",
         "before-clamped"],
)  # fmt: skip
def test_retention_on_standard_instances(options: dict[str, str], now: datetime, ok: bool) -> None:
    resolve_window(now=now, instance_type="SANDBOX", **options)  # the sandbox never checks retention
    if ok:
        resolve_window(now=now, instance_type="STANDARD", **options)
    else:
        with pytest.raises(WindowError, match="13-month data retention") as caught:
            resolve_window(now=now, instance_type="STANDARD", **options)
        assert "start on" in str(caught.value.hint)


def test_retention_check_is_case_insensitive_on_instance_type() -> None:
    resolve_window(start="2020-01-01", end="2020-02-01", now=NOW, instance_type="sandbox")
    with pytest.raises(WindowError):
        resolve_window(start="2020-01-01", end="2020-02-01", now=NOW, instance_type="standard")


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "tz='Mars/Olympus_Mons' is not a known IANA time zone"),
        ({"tz": "../etc/passwd"}, "tz='../etc/passwd'"),
        ({"tz": ""}, "tz=''"),
        ({"window": "yesterday"}, "window='yesterday' is not a known window"),
        ({"window": "last_0_days"}, "window='last_0_days'"),
        ({"window": "last_x_days"}, "window='last_x_days'"),
        ({"window": "last_7_days", "start": "2026-03-01"}, "cannot be combined with start=/end="),
        ({"window": "current_month", "start": "2026-03-01", "end": "2026-03-02"}, "cannot be combined"),
        ({"start": "2026-03-01"}, "start= was given without end="),
        ({"end": "2026-03-01"}, "end= was given without start="),
        ({"start": "2026-13-01", "end": "2026-12-31"}, "start='2026-13-01' is not an ISO date or datetime"),
        ({"start": "2026-03-01", "end": "next tuesday"}, "end='next tuesday' is not an ISO date or datetime"),
        ({"start": "", "end": "2026-03-01"}, "start='' is not an ISO date"),
        ({"start": 20260301, "end": "2026-03-02"}, "start= must be an ISO date or datetime, not int"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end=2026-03-01 must be after start=2026-03-31"),
        ({"start": "2026-03-01T06:00", "end": "2026-03-01T06:00"}, "end=2026-03-01T06:00 must be after start=2026-03-01T06:00"),
        ({"start": "2026-03-02", "end": "2026-03-01T12:00"}, "must be after start"),
    ],
    ids=["unknown-zone", "path-like-zone", "empty-zone", "unknown-window", "last-0-days", "last-x-days",
         "window-and-start", "window-and-both", "only-start", "only-end", "bad-month", "bad-end", "empty-start",
         "wrong-type", "end-before-start", "end-equals-start", "datetime-end-before-date-start"],
)  # fmt: skip
def test_window_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(WindowError) as caught:
        resolve_window(now=NOW, **options)
    assert message in caught.value.message
    assert caught.value.hint


# --- the value itself ---------------------------------------------------------------------


def test_time_window_is_frozen_and_hashable() -> None:
    window = resolve_window(window="last_7_days", now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.start = datetime(2020, 1, 1)  # type: ignore[misc]
    assert hash(window) == hash(resolve_window(window="last_7_days", now=NOW))


def test_window_type_is_coerced_from_text() -> None:
    window = TimeWindow("EXPLICIT", datetime(2026, 3, 1), datetime(2026, 3, 2))  # type: ignore[arg-type]
    assert window.window_type is WindowType.EXPLICIT
    assert window.request_fields()["timeWindowStart"] == "2026-03-01T00:00:00"
    assert window.window_type == "EXPLICIT"


def test_builtins_follow_time_zone_for_sub_day_offsets() -> None:
    window = resolve_window(start="2026-03-01", end="2026-03-01", tz="Asia/Kolkata", now=NOW)
    assert window_bounds(window) == ("'2026-02-28 18:30:00'", "'2026-03-01 18:30:00'")
    assert window.end - window.start == timedelta(days=1)


@pytest.mark.parametrize(
    "options",
    [{"start": "2026-01-01", "end": "9999-12-31"}, {"window": "last_99999999999999999999_days"}],
    ids=["end-of-calendar", "huge-n"],
)
def test_windows_beyond_the_calendar_are_window_errors(options):
    with pytest.raises(WindowError, match="cannot be computed"):
        resolve_window(now=NOW, **options)


# --- windows outside the instance's known data (the sandbox) ---------------------------------

DATA_DAYS = (date(2025, 1, 1), date(2026, 4, 13))


@pytest.mark.parametrize(
    ("start", "end"),
    [("2019-01-01", "2019-01-31"), ("2024-12-01", "2024-12-31"), ("2026-04-14", "2026-04-14")],
    ids=["years-before", "the-day-before-the-data", "the-day-after-the-data"],
)
def test_a_window_wholly_outside_the_data_is_an_error_naming_the_range(start: str, end: str) -> None:
    with pytest.raises(WindowError) as info:
        resolve_window(start=start, end=end, now=NOW, data_days=DATA_DAYS)
    assert "is wholly outside the data: this instance holds data from 2025-01-01 to 2026-04-13 (UTC)" in info.value.message
    assert info.value.hint.startswith("Choose dates between 2025-01-01 and 2026-04-13")


def test_a_window_partly_before_the_data_warns() -> None:
    window = resolve_window(start="2024-12-25", end="2025-01-10", now=NOW, data_days=DATA_DAYS)
    assert window.warnings == (
        "The window starts before the data: this instance holds data from 2025-01-01 to 2026-04-13 (UTC), "
        "so the days before 2025-01-01 return no rows.",
    )


def test_a_window_partly_after_the_data_warns_once() -> None:
    data_days = (date(2025, 1, 1), date(2026, 3, 31))
    window = resolve_window(start="2026-03-25", end="2026-04-05", now=NOW, data_days=data_days)
    assert window.warnings == (
        "The window ends after the data: this instance holds data from 2025-01-01 to 2026-03-31 (UTC), "
        "so the days after 2026-03-31 return no rows.",
    )
    recent = resolve_window(window="last_7_days", now=NOW, data_days=DATA_DAYS)
    assert len(recent.warnings) == 1 and "last 48 hours" in recent.warnings[0]


def test_the_data_range_is_read_in_the_window_zone() -> None:
    # 2024-12-31 20:00 in New York is 2025-01-01 01:00 UTC: inside the data
    window = resolve_window(start="2024-12-31T20:00:00", end="2024-12-31T22:00:00", tz=NY, now=NOW, data_days=DATA_DAYS)
    assert window.warnings == ()


def test_a_window_inside_the_data_has_no_warning() -> None:
    assert resolve_window(start="2026-03-01", end="2026-03-31", now=NOW, data_days=DATA_DAYS).warnings == ()
