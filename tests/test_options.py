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
        ("every=week", "not available yet"),
        ("concurrency=3", "not available yet"),
        ("instance=a,b", "not available yet"),
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
