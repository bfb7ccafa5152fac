"""The %%amc line parser: every option, every mistake."""

import pytest

from amc_magic.errors import OptionError
from amc_magic.options import OPTION_HELP, CellOptions, parse_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", CellOptions()),
        ("reach", CellOptions(var="reach")),
        ("reach start=2026-03-01 end=2026-03-31", CellOptions(var="reach", start="2026-03-01", end="2026-03-31", given=frozenset({"start", "end"}))),
        ("instance=amc1abc2def", CellOptions(instance="amc1abc2def", given=frozenset({"instance"}))),
        ("df tz=America/New_York window=last_7_days", CellOptions(var="df", tz="America/New_York", window="last_7_days", given=frozenset({"tz", "window"}))),
        ("h wait=false", CellOptions(var="h", wait=False, given=frozenset({"wait"}))),
        ("h wait=No", CellOptions(var="h", wait=False, given=frozenset({"wait"}))),
        ("cache=refresh", CellOptions(cache="refresh", given=frozenset({"cache"}))),
        ("cache=FALSE", CellOptions(cache="false", given=frozenset({"cache"}))),
        ("validate=only", CellOptions(validate="only", given=frozenset({"validate"}))),
        ("timeout=90.5", CellOptions(timeout=90.5, given=frozenset({"timeout"}))),
        ("x 'start=2026-03-01 00:00:00'", CellOptions(var="x", start="2026-03-01 00:00:00", given=frozenset({"start"}))),
        ("START=2026-01-01", CellOptions(start="2026-01-01", given=frozenset({"start"}))),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_parses(line, expected):
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("strat=2026-01-01", "Did you mean 'start'"),
        ("colour=red", "Unknown option 'colour'"),
        ("1df", "not a valid Python variable name"),
        ("class", "not a valid Python variable name"),
        ("df extra", "Unexpected word 'extra'"),
        ("wait=maybe", "wait='maybe' is not true or false"),
        ("cache=sometimes", "not one of true, false, refresh"),
        ("validate=later", "not one of true, false, only"),
        ("timeout=-5", "not a positive number"),
        ("timeout=soon", "not a positive number"),
        ("timeout=nan", "not a positive number"),
        ("start=", "needs a value"),
        ("start=2026-01-01 start=2026-02-01", "given twice"),
        ("every=fortnight", "not one of day, week, month"),
        ("week_start=friday", "not one of monday, sunday"),
        ("concurrency=0", "not a whole number from 1 to 10"),
        ("concurrency=11", "not a whole number from 1 to 10"),
        ("concurrency=2.5", "not a whole number from 1 to 10"),
        ("instance=a,,b", "has an empty name"),
        ("x 'start=2026", "Close every quote"),
    ],
)
def test_rejects(line, fragment):
    with pytest.raises(OptionError) as info:
        parse_line(line)
    assert fragment in str(info.value)


def test_unknown_option_lists_the_allowed_ones():
    with pytest.raises(OptionError) as info:
        parse_line("zzz=1")
    for key in OPTION_HELP:
        assert f"{key}=" in info.value.hint


def test_backfill_options_are_read():
    options = parse_line("weekly every=WEEK week_start=sunday concurrency=4 instance=sandbox,amc123")
    assert (options.every, options.week_start, options.concurrency) == ("week", "sunday", 4)
    assert options.instances("sandbox") == ("sandbox", "amc123") and options.is_backfill
    assert parse_line("").instances("amc9") == ("amc9",) and not parse_line("").is_backfill
