"""Tests for ``{{name}}`` rendering: literal rules, errors, and injection safety."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot.tokens import TokenType

from amc_magic.errors import ParameterError
from amc_magic.params import placeholders, render

NEW_YORK = ZoneInfo("America/New_York")


class Color(enum.IntEnum):
    RED = 7


class Tag(enum.StrEnum):
    SALE = "Spring Sale"


class Loud(str):
    """A str subclass whose methods lie: rendering must use the real text."""

    def __str__(self) -> str:
        return "' OR 1=1 --"

    def replace(self, *args: object) -> str:  # type: ignore[override]
        return "' OR 1=1 --"


def table(cases: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """``parametrize`` keyword arguments from rows whose first item is the test id."""
    return {"argvalues": [case[1:] for case in cases], "ids": [case[0] for case in cases]}


# (id, value, expected SQL for "{{v}}")
RENDER_CASES = [
    ("str", "Spring Sale", "'Spring Sale'"),
    ("str-quote-doubled", "Mother's Day", "'Mother''s Day'"),
    ("str-empty", "", "''"),
    ("str-backslash-verbatim", "a\\b\\", "'a\\b\\'"),
    ("str-newline-verbatim", "a\nb", "'a\nb'"),
    ("str-unicode", "Fête 🎉 ’", "'Fête 🎉 ’'"),
    ("str-braces-not-rescanned", "{{v}}", "'{{v}}'"),
    ("np-str", np.str_("it's"), "'it''s'"),
    ("str-enum", Tag.SALE, "'Spring Sale'"),
    ("str-subclass-real-text", Loud("safe"), "'safe'"),
    ("int", 42, "42"),
    ("int-zero", 0, "0"),
    ("int-negative", -5, "-5"),
    ("int-huge", 10**30, "1" + "0" * 30),
    ("int-enum", Color.RED, "7"),
    ("np-int64", np.int64(9001), "9001"),
    ("np-uint8", np.uint8(255), "255"),
    ("float", 0.1, "0.1"),
    ("float-repr-roundtrip", 1 / 3, "0.3333333333333333"),
    ("float-large-exponent", 1e20, "1e+20"),
    ("float-small-exponent", 1e-7, "1e-07"),
    ("float-negative", -2.5, "-2.5"),
    ("np-float64", np.float64(2.5), "2.5"),
    ("np-float32-python-equivalent", np.float32(0.1), repr(float(np.float32(0.1)))),
    ("decimal", Decimal("1234.5600"), "1234.5600"),
    ("decimal-no-scientific", Decimal("1E+3"), "1000"),
    ("decimal-small-no-scientific", Decimal("1E-10"), "0.0000000001"),
    ("decimal-negative", Decimal("-0.5"), "-0.5"),
    ("bool-true", True, "TRUE"),
    ("bool-false", False, "FALSE"),
    ("np-bool", np.bool_(True), "TRUE"),
    ("none", None, "NULL"),
    ("date", date(2026, 3, 1), "'2026-03-01'"),
    ("datetime-naive", datetime(2026, 3, 1, 6, 30, 5), "'2026-03-01 06:30:05'"),
    ("datetime-microseconds-dropped", datetime(2026, 3, 1, 6, 30, 5, 120000), "'2026-03-01 06:30:05'"),
    ("datetime-aware-utc", datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc), "'2026-03-01 06:00:00'"),
    ("datetime-aware-to-utc", datetime(2026, 3, 1, 6, 0, tzinfo=NEW_YORK), "'2026-03-01 11:00:00'"),
    ("datetime-aware-dst-to-utc", datetime(2026, 7, 1, 6, 0, tzinfo=NEW_YORK), "'2026-07-01 10:00:00'"),
    ("datetime-fixed-offset", datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "'2026-02-28 23:00:00'"),
    ("pd-timestamp-naive", pd.Timestamp("2026-03-01 06:30"), "'2026-03-01 06:30:00'"),
    ("pd-timestamp-aware", pd.Timestamp("2026-03-01 06:30", tz="America/New_York"), "'2026-03-01 11:30:00'"),
    ("pd-timestamp-nanoseconds-dropped", pd.Timestamp("2026-03-01 00:00:00.000000001"), "'2026-03-01 00:00:00'"),
    ("np-datetime64-day-is-date", np.datetime64("2026-03-01"), "'2026-03-01'"),
    ("np-datetime64-seconds", np.datetime64("2026-03-01T06:30:00"), "'2026-03-01 06:30:00'"),
    ("list-str", ["Spring Sale", "Mother's Day"], "'Spring Sale', 'Mother''s Day'"),
    ("list-mixed", [1, "a", None, 2.5], "1, 'a', NULL, 2.5"),
    ("list-bool-not-int", [True, False, 1], "TRUE, FALSE, 1"),
    ("list-single", [7], "7"),
    ("tuple", (1, 2, 3), "1, 2, 3"),
    ("set-sorted", {"b", "c", "a"}, "'a', 'b', 'c'"),
    ("set-numbers-sorted", {10, 9, -1}, "-1, 9, 10"),
    ("frozenset-sorted", frozenset({3, 1, 2}), "1, 2, 3"),
    ("set-mixed-types-deterministic", {2, "a", 1}, "1, 2, 'a'"),
    ("series-int", pd.Series([1, 2, 3]), "1, 2, 3"),
    ("series-str", pd.Series(["x", "y'z"]), "'x', 'y''z'"),
    ("series-bool", pd.Series([True, False]), "TRUE, FALSE"),
    (
        "series-datetime",
        pd.Series(pd.to_datetime(["2026-03-01 00:00", "2026-03-02 12:00"])),
        "'2026-03-01 00:00:00', '2026-03-02 12:00:00'",
    ),
    ("index", pd.Index(["a", "b"]), "'a', 'b'"),
    ("pandas-extension-array", pd.array([1, 2], dtype="Int64"), "1, 2"),
    ("ndarray-float", np.array([1.5, 2.0]), "1.5, 2.0"),
    ("ndarray-int64", np.array([1, 2], dtype=np.int64), "1, 2"),
    ("ndarray-date", np.array(["2026-03-01", "2026-03-02"], dtype="datetime64[D]"), "'2026-03-01', '2026-03-02'"),
    ("list-of-dates", [date(2026, 1, 1), datetime(2026, 1, 2, tzinfo=NEW_YORK)], "'2026-01-01', '2026-01-02 05:00:00'"),
]


@pytest.mark.parametrize(("value", "expected"), **table(RENDER_CASES))
def test_render_literal(value: object, expected: str) -> None:
    assert render("SELECT {{v}}", {"v": value}) == f"SELECT {expected}"


# (id, sql, namespace, expected)
TEMPLATE_CASES = [
    ("spaces-in-braces", "x = {{  v  }}", {"v": 1}, "x = 1"),
    ("newline-in-braces", "x = {{\n v \n}}", {"v": 1}, "x = 1"),
    ("attribute", "x = {{cfg.start}}", {"cfg": SimpleNamespace(start=date(2026, 3, 1))}, "x = '2026-03-01'"),
    ("attribute-chain", "x = {{ a.b.c }}", {"a": SimpleNamespace(b=SimpleNamespace(c="deep"))}, "x = 'deep'"),
    ("repeated", "{{v}} + {{ v }}", {"v": 2}, "2 + 2"),
    ("in-list", "c IN ({{cs}})", {"cs": ["a", "b"]}, "c IN ('a', 'b')"),
    ("minus-negative-not-a-comment", "a-{{n}}", {"n": -5}, "a- -5"),
    ("unclosed-left-alone", "SELECT '{{' , {{v}} {{ oops", {"v": 1}, "SELECT '{{' , 1 {{ oops"),
    ("value-not-rescanned", "{{a}} {{b}}", {"a": "{{b}}", "b": "x"}, "'{{b}}' 'x'"),
    ("no-placeholders", "SELECT 1", {}, "SELECT 1"),
    ("triple-braces", "{{{v}}}", {"v": 1}, "{1}"),
]


@pytest.mark.parametrize(("sql", "namespace", "expected"), **table(TEMPLATE_CASES))
def test_render_template(sql: str, namespace: dict[str, object], expected: str) -> None:
    assert render(sql, namespace) == expected


def test_builtins_are_looked_up_before_the_namespace() -> None:
    sql = "{{window_start}} {{other}}"
    rendered = render(sql, {"window_start": "shadowed", "other": 1}, builtins={"window_start": date(2026, 3, 1)})
    assert rendered == "'2026-03-01' 1"


class Exploding:
    @property
    def value(self) -> object:
        raise ParameterError("value", "{{value}} is computed lazily and refused", hint="use another")


# (id, sql, namespace, expected ParameterError.name, text the message must contain)
ERROR_CASES = [
    ("undefined", "{{missing}}", {}, "missing", "'missing' is not defined"),
    ("undefined-head-of-chain", "{{cfg.start}}", {}, "cfg.start", "'cfg' is not defined"),
    ("missing-attribute", "{{cfg.stop}}", {"cfg": SimpleNamespace(start=1)}, "cfg.stop", "has no attribute 'stop'"),
    ("dict-key-is-not-attribute", "{{d.k}}", {"d": {"k": 1}}, "d.k", "has no attribute 'k'"),
    ("malformed-index", "{{ xs[0] }}", {"xs": [1]}, "xs[0]", "not a valid placeholder"),
    ("malformed-digit", "{{1x}}", {}, "1x", "not a valid placeholder"),
    ("malformed-empty", "{{ }}", {}, "", "not a valid placeholder"),
    ("empty-list", "IN ({{cs}})", {"cs": []}, "cs", "empty list"),
    ("empty-set", "{{cs}}", {"cs": set()}, "cs", "empty set"),
    ("empty-series", "{{cs}}", {"cs": pd.Series([], dtype=object)}, "cs", "empty Series"),
    ("nested-list", "{{cs}}", {"cs": [1, [2]]}, "cs", "nested"),
    ("list-with-dict", "{{cs}}", {"cs": [{"a": 1}]}, "cs", "nested"),
    ("ndarray-2d", "{{m}}", {"m": np.zeros((2, 2))}, "m", "2-dimensional"),
    ("nan", "{{x}}", {"x": float("nan")}, "x", "NaN or infinity"),
    ("inf", "{{x}}", {"x": float("-inf")}, "x", "NaN or infinity"),
    ("np-nan", "{{x}}", {"x": np.float32("nan")}, "x", "NaN or infinity"),
    ("decimal-nan", "{{x}}", {"x": Decimal("NaN")}, "x", "NaN or infinity"),
    ("decimal-inf", "{{x}}", {"x": Decimal("Infinity")}, "x", "NaN or infinity"),
    ("nan-in-series", "{{xs}}", {"xs": pd.Series([1.0, None])}, "xs", "{{xs}}[1] is nan"),
    ("pd-na", "{{x}}", {"x": pd.NA}, "x", "missing value"),
    ("pd-na-in-nullable-series", "{{xs}}", {"xs": pd.Series([1, None], dtype="Int64")}, "xs", "{{xs}}[1] is a missing"),
    ("pd-na-in-extension-array", "{{xs}}", {"xs": pd.array(["a", None], dtype="string")}, "xs", "[1] is a missing"),
    ("nat", "{{x}}", {"x": pd.NaT}, "x", "missing value"),
    ("np-nat", "{{x}}", {"x": np.datetime64("NaT")}, "x", "missing value"),
    ("dict", "{{x}}", {"x": {"a": 1}}, "x", "dict, which has no SQL literal"),
    ("bytes", "{{x}}", {"x": b"abc"}, "x", "bytes, which has no SQL literal"),
    ("object", "{{x}}", {"x": object()}, "x", "is an object, which has no SQL literal"),
    ("timedelta", "{{x}}", {"x": timedelta(days=1)}, "x", "timedelta, which has no SQL literal"),
    ("np-timedelta64", "{{x}}", {"x": np.timedelta64(5, "s")}, "x", "timedelta64, which has no SQL literal"),
    ("complex", "{{x}}", {"x": 1j}, "x", "complex, which has no SQL literal"),
    ("range", "{{x}}", {"x": range(3)}, "x", "range, which has no SQL literal"),
    ("nul-character", "{{x}}", {"x": "a\x00b"}, "x", "NUL character"),
    ("nul-in-list", "{{xs}}", {"xs": ["ok", "\x00"]}, "xs", "{{xs}}[1] contains a NUL"),
    ("lone-surrogate", "{{x}}", {"x": "\ud800"}, "x", "UTF-8"),
    ("builtin-raises", "{{obj.value}}", {"obj": Exploding()}, "value", "computed lazily"),
]


@pytest.mark.parametrize(("sql", "namespace", "name", "text"), **table(ERROR_CASES))
def test_render_error(sql: str, namespace: dict[str, object], name: str, text: str) -> None:
    with pytest.raises(ParameterError) as caught:
        render(sql, namespace)
    error = caught.value
    assert error.name == name
    assert text in error.message
    assert f"{{{{{name}}}}}" in error.message, "the message names the placeholder"
    assert error.hint, "every parameter error carries a hint"


def test_error_stops_before_later_placeholders_are_looked_up() -> None:
    class Tripwire(dict):  # type: ignore[type-arg]
        def __contains__(self, key: object) -> bool:
            assert key != "later", "rendering went on after an error"
            return super().__contains__(key)

    with pytest.raises(ParameterError):
        render("{{bad}} {{later}}", Tripwire(bad=[]))


def _run(sql: str) -> list[tuple[object, ...]]:
    """Execute SQL on a fresh in-memory DuckDB (the sandbox's engine; standard SQL string literals)."""
    with duckdb.connect() as connection:
        return connection.execute(sql).fetchall()


HOSTILE_STRINGS = [
    ("quote-or", "' OR 1=1 --"),
    ("quote-drop", "'; DROP TABLE dsp_impressions; --"),
    ("backslash-quote", "\\' OR 1=1 --"),
    ("trailing-backslash", "ends with \\"),
    ("double-backslash-quote", "\\\\''"),
    ("only-quotes", "''''"),
    ("newline-comment", "x'\n-- y\nUNION SELECT 1"),
    ("block-comment", "/* '*/ OR 1=1 /*"),
    ("placeholder-text", "{{v}} {{ other }} }}{{"),
    ("unicode-apostrophes", "Mother’s Day ʼ ＇ ‘quoted’"),
    ("control-characters", "\r\n\t\x0b\x0c\x1a"),
    ("line-separators", "a\u2028b\u2029c\x85"),
    ("dollar-quoting", "$$ x $$"),
    ("double-quotes", '" OR "1"="1'),
    ("semicolon-only", ";"),
    ("emoji", "🎉'🎉"),
]


@pytest.mark.parametrize("hostile", [h for _, h in HOSTILE_STRINGS], ids=[i for i, _ in HOSTILE_STRINGS])
@pytest.mark.parametrize("dialect", [None, "duckdb"], ids=["standard", "duckdb"])
def test_hostile_string_stays_one_literal(hostile: str, dialect: str | None) -> None:
    rendered = render("SELECT c FROM t WHERE c = {{v}} AND d = {{w}} GROUP BY c", {"v": hostile, "w": hostile})
    tokens = sqlglot.tokenize(rendered, read=dialect)
    assert [token.token_type for token in tokens] == [
        TokenType.SELECT, TokenType.VAR, TokenType.FROM, TokenType.VAR, TokenType.WHERE,
        TokenType.VAR, TokenType.EQ, TokenType.STRING, TokenType.AND,
        TokenType.VAR, TokenType.EQ, TokenType.STRING, TokenType.GROUP_BY, TokenType.VAR,
    ]  # fmt: skip
    strings = [token.text for token in tokens if token.token_type is TokenType.STRING]
    assert strings == [hostile, hostile]


@pytest.mark.parametrize("hostile", [h for _, h in HOSTILE_STRINGS], ids=[i for i, _ in HOSTILE_STRINGS])
def test_hostile_string_round_trips_through_a_sql_engine(hostile: str) -> None:
    rendered = render("SELECT {{v}} AS v, {{vs}} AS n", {"v": hostile, "vs": [hostile]})
    assert _run(rendered) == [(hostile, hostile)]


def test_hostile_list_stays_one_literal_per_element() -> None:
    values = [hostile for _, hostile in HOSTILE_STRINGS]
    rendered = render("SELECT 1 WHERE c IN ({{vs}})", {"vs": values})
    tokens = sqlglot.tokenize(rendered)
    in_list = tokens[tokens.index(next(t for t in tokens if t.token_type is TokenType.L_PAREN)) + 1 : -1]
    assert [t.text for t in in_list if t.token_type is TokenType.STRING] == values
    assert {t.token_type for t in in_list} == {TokenType.STRING, TokenType.COMMA}


def test_numbers_and_timestamps_are_read_back_exactly() -> None:
    namespace = {
        "f": 1 / 3,
        "tiny": 1e-300,
        "d": Decimal("12345678901234567890.123456789"),
        "ts": datetime(2026, 3, 1, 6, 30, 5, 123456, tzinfo=NEW_YORK),
        "neg": -7,
    }
    sql = "SELECT {{f}}::DOUBLE, {{tiny}}::DOUBLE, {{d}}, CAST({{ts}} AS TIMESTAMP), 10-{{neg}}"
    [row] = _run(render(sql, namespace))
    utc_timestamp = datetime(2026, 3, 1, 11, 30, 5)  # whole seconds, as the contract says
    assert row == (1 / 3, 1e-300, Decimal("12345678901234567890.123456789"), utc_timestamp, 17)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", []),
        ("{{a}} {{ b.c }} {{a}} {{\td }}", ["a", "b.c", "d"]),
        ("{{ 1x }} {{ok}} {{ unclosed", ["ok"]),
        ("{{window_start}} {{window_end}} -- {{in_a_comment}}", ["window_start", "window_end"]),
    ],
    ids=["none", "ordered-unique", "malformed-and-unclosed-skipped", "builtins-too"],
)
def test_placeholders(sql: str, expected: list[str]) -> None:
    assert placeholders(sql) == expected


@pytest.mark.parametrize(
    "template",
    ["WHERE campaign = '{{x}}'", 'WHERE "{{x}}" = 1', "WHERE c = `{{x}}`", "WHERE c = 'a {{ x }} b'"],
    ids=["single-quotes", "double-quotes", "backticks", "inside-text"],
)
def test_a_placeholder_inside_quotes_is_refused(template):
    with pytest.raises(ParameterError) as info:
        render(template, {"x": " OR TRUE OR "})
    assert "inside quotes" in str(info.value)
    assert info.value.name == "x"


@pytest.mark.parametrize(
    "template",
    ["SELECT 1 -- filter {{x}}\nFROM t", "SELECT 1 /* {{x}} */ FROM t", "SELECT 1 -- {{undefined}}\nFROM t"],
    ids=["line-comment", "block-comment", "undefined-in-comment"],
)
def test_comments_are_left_as_written(template):
    assert render(template, {"x": "\nWHERE TRUE --"}) == template


def test_a_value_cannot_end_a_comment_and_inject():
    rendered = render("SELECT 1 FROM t -- filter {{x}}\nGROUP BY 1", {"x": "\nWHERE TRUE --"})
    assert "WHERE TRUE" not in rendered


def test_a_quote_inside_a_value_next_to_a_quoted_literal_stays_one_literal():
    assert render("WHERE a = 'it''s' AND b = {{x}}", {"x": "y'z"}) == "WHERE a = 'it''s' AND b = 'y''z'"
