"""The cache key: what counts as the same request, and what does not."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from amc_magic.errors import WindowError
from amc_magic.history import cache_key, normalise_sql

SQL = "SELECT campaign, COUNT(*) AS n FROM dsp_impressions WHERE campaign = 'Spring  Sale' GROUP BY 1"


@pytest.mark.parametrize(
    "variant",
    [
        SQL,
        "  SELECT campaign,\n\tCOUNT(*)   AS n\nFROM dsp_impressions -- all campaigns\n"
        "WHERE campaign = 'Spring  Sale' /* the big one */ GROUP BY 1\n",
        "-- header comment\nSELECT campaign , COUNT ( * ) AS n FROM dsp_impressions"
        " WHERE campaign='Spring  Sale' GROUP BY 1",
    ],
    ids=["as-is", "whitespace-and-comments", "spacing-around-punctuation"],
)
def test_whitespace_and_comments_do_not_matter(variant: str) -> None:
    assert normalise_sql(variant) == normalise_sql(SQL)


@pytest.mark.parametrize(
    "different",
    [
        SQL.replace("'Spring  Sale'", "'Spring Sale'"),
        SQL.replace("'Spring  Sale'", "'spring  sale'"),
        SQL.replace("AS n", "AS N"),
        SQL.replace("'Spring  Sale'", "'Spring  Sale -- not a comment'"),
        SQL.replace("campaign =", '"campaign" ='),
    ],
    ids=["literal-spaces", "literal-case", "alias-case", "comment-marker-in-literal", "quoted-identifier"],
)
def test_literals_identifiers_and_case_are_kept(different: str) -> None:
    assert normalise_sql(different) != normalise_sql(SQL)


def test_string_literals_are_kept_exactly() -> None:
    assert normalise_sql("SELECT 'it''s  --here'   -- gone\n") == "SELECT 'it''s  --here'"


def test_sql_the_tokenizer_cannot_read_still_gets_a_normal_form() -> None:
    assert normalise_sql("SELECT 'unterminated\n   FROM  t") == "SELECT 'unterminated FROM t"


def key(**overrides: object) -> str:
    args: dict = dict(
        instance_id="amcabc",
        rendered_sql=SQL,
        window_start=datetime(2026, 3, 1),
        window_end=datetime(2026, 4, 1),
        time_zone="America/New_York",
        window_type="EXPLICIT",
        options={"sample": False, "ignore_data_gaps": True},
    )
    args.update(overrides)
    return cache_key(**args)


def test_the_same_request_has_the_same_key() -> None:
    new_york = ZoneInfo("America/New_York")
    assert key() == key(rendered_sql="  " + SQL + " -- again")
    assert key() == key(options={"ignore_data_gaps": True, "sample": False})
    aware_window = dict(window_start=datetime(2026, 3, 1, tzinfo=new_york), window_end=datetime(2026, 4, 1, 4, tzinfo=UTC))
    assert key() == key(**aware_window)
    assert len(key()) == 64 and int(key(), 16) >= 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"instance_id": "amcother"},
        {"rendered_sql": SQL.replace("GROUP BY 1", "GROUP BY campaign")},
        {"window_start": datetime(2026, 3, 2)},
        {"window_end": None},
        {"time_zone": "UTC"},
        {"window_type": "MOST_RECENT_WEEK"},
        {"options": {"sample": True, "ignore_data_gaps": True}},
        {"options": {}},
    ],
    ids=lambda overrides: next(iter(overrides)),
)
def test_anything_that_changes_the_result_changes_the_key(overrides: dict) -> None:
    assert key(**overrides) != key()


def test_an_unknown_time_zone_is_a_window_error() -> None:
    with pytest.raises(WindowError, match="Unknown time zone 'Nowhere/City'"):
        key(window_start=datetime(2026, 3, 1, tzinfo=UTC), time_zone="Nowhere/City")


def test_history_sql_column_is_the_query_on_one_line_without_its_comments():
    from amc_magic.history.listing import sql_summary

    assert sql_summary("-- Reach by campaign\n\n  SELECT campaign\nFROM t") == "SELECT campaign FROM t"
    assert sql_summary("SELECT\n    campaign,\n    SUM(impressions)\nFROM dsp_impressions") == (
        "SELECT campaign, SUM(impressions) FROM dsp_impressions"
    )
    long = sql_summary("SELECT " + ", ".join(f"column_{n}" for n in range(30)) + " FROM t", width=40)
    assert long == "SELECT column_0, column_1, column_2, co…" and len(long) == 40
    assert sql_summary("-- only a comment") == "-- only a comment"
    assert sql_summary("   \n") == ""
