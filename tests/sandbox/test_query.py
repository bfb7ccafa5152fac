"""Running AMC SQL on the sandbox: time windows, AMC functions, thresholds, errors, determinism."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from amc_magic.sandbox.problems import CompileProblem, QueryFailure
from amc_magic.sandbox.database import QueryOutput, SandboxDatabase

MARCH = {"window_start": datetime(2025, 3, 1), "window_end": datetime(2025, 4, 1)}
REACH_BY_CAMPAIGN = """
    SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
    FROM dsp_impressions GROUP BY campaign"""


def rows(output: QueryOutput) -> list[tuple]:
    return [tuple(row.values()) for row in output.table.to_pylist()]


def by_first_column(output: QueryOutput) -> dict:
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in rows(output)}


# --- time window ----------------------------------------------------------------------------


def test_only_rows_inside_the_window_are_seen(sandbox_db, raw_db):
    start, end = datetime(2025, 2, 10, 6, 30), datetime(2025, 2, 11, 18, 0)
    output = sandbox_db.run(
        """SELECT MIN(impression_dt_utc) AS first, MAX(impression_dt_utc) AS last, SUM(impressions) AS n
           FROM dsp_impressions""",
        window_start=start,
        window_end=end,
        disable_aggregation_controls=True,
    )
    first, last, count = rows(output)[0]
    expected = raw_db.execute(
        "SELECT count(*) FROM dsp_impressions WHERE impression_dt_utc >= ? AND impression_dt_utc < ?", [start, end]
    ).fetchone()[0]
    assert start <= first and last < end
    assert count == expected > 0


def test_each_table_is_windowed_on_its_own_time_column(sandbox_db, raw_db):
    start, end = datetime(2025, 3, 5), datetime(2025, 3, 6)
    output = sandbox_db.run(
        """SELECT MIN(traffic_event_dt_utc) AS traffic_from, MIN(conversion_event_dt_utc) AS conversions_from,
                  COUNT(*) AS n
           FROM amazon_attributed_events_by_traffic_time""",
        window_start=start,
        window_end=end,
        disable_aggregation_controls=True,
    )
    traffic_from, conversions_from, count = rows(output)[0]
    assert traffic_from >= start and conversions_from >= traffic_from
    expected = raw_db.execute(
        """SELECT count(*) FROM amazon_attributed_events_by_traffic_time
           WHERE traffic_event_dt_utc >= ? AND traffic_event_dt_utc < ?""",
        [start, end],
    ).fetchone()[0]
    assert count == expected > 0


def test_a_window_in_another_time_zone_is_applied_in_utc(sandbox_db):
    new_york = ZoneInfo("America/New_York")
    local_start, local_end = datetime(2025, 2, 1, tzinfo=new_york), datetime(2025, 2, 2, tzinfo=new_york)
    utc = ZoneInfo("UTC")
    start = local_start.astimezone(utc).replace(tzinfo=None)
    end = local_end.astimezone(utc).replace(tzinfo=None)
    assert start == datetime(2025, 2, 1, 5)
    output = sandbox_db.run(
        "SELECT MIN(impression_dt_utc) AS first, MAX(impression_dt_utc) AS last FROM dsp_impressions",
        window_start=start,
        window_end=end,
        disable_aggregation_controls=True,
    )
    first, last = rows(output)[0]
    assert datetime(2025, 2, 1, 5) <= first < datetime(2025, 2, 1, 6)
    assert datetime(2025, 2, 2, 4) <= last < datetime(2025, 2, 2, 5)
    # An aware window is taken as the instant it names.
    aware = sandbox_db.run(
        "SELECT MIN(impression_dt_utc) AS first, MAX(impression_dt_utc) AS last FROM dsp_impressions",
        window_start=local_start,
        window_end=local_end,
        disable_aggregation_controls=True,
    )
    assert rows(aware) == rows(output)


def test_built_in_parameters_are_the_window_bounds(sandbox_db):
    output = sandbox_db.run(
        """SELECT BUILT_IN_PARAMETER('TIME_WINDOW_START') AS s, BUILT_IN_PARAMETER('TIME_WINDOW_END') AS e,
                  COUNT(*) AS n
           FROM conversions""",
        **MARCH,
        disable_aggregation_controls=True,
    )
    assert rows(output)[0][:2] == (datetime(2025, 3, 1), datetime(2025, 4, 1))
    assert output.columns[:2] == [("s", "TIMESTAMP"), ("e", "TIMESTAMP")]


@pytest.mark.parametrize(
    "source",
    [
        "TABLE(EXTEND_TIME_WINDOW('dsp_impressions', 'P14D', 'P1D'))",
        "EXTEND_TIME_WINDOW(dsp_impressions, 'P2W', 'PT24H')",
    ],
)
def test_extend_time_window_widens_that_table(sandbox_db, source):
    span = "SELECT MIN(impression_dt_utc) AS first, MAX(impression_dt_utc) AS last, COUNT(*) AS n FROM "
    extended = rows(sandbox_db.run(span + source, **MARCH, disable_aggregation_controls=True))[0]
    widened = rows(
        sandbox_db.run(
            span + "dsp_impressions",
            window_start=datetime(2025, 2, 15),
            window_end=datetime(2025, 4, 2),
            disable_aggregation_controls=True,
        )
    )[0]
    assert extended == widened
    assert extended[0] < datetime(2025, 3, 1)


# --- thresholds -----------------------------------------------------------------------------


def test_small_campaigns_disappear_below_the_threshold_and_return_without_controls(sandbox_db):
    query = """SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(bid_price) AS bids
               FROM dsp_impressions GROUP BY campaign"""  # bid_price is MEDIUM: 100 users per row
    controlled = sandbox_db.run(query, **MARCH)
    everything = sandbox_db.run(query, **MARCH, disable_aggregation_controls=True)
    reach = {campaign: users for campaign, users, _ in rows(everything)}
    kept = {campaign for campaign, *_ in rows(controlled)}
    assert "Lumen - Loyalty Pilot" in reach and "Lumen - Loyalty Pilot" not in kept
    assert kept == {campaign for campaign, users in reach.items() if users >= 100}
    assert controlled.filtered_rows == len(reach) - len(kept) >= 3
    assert everything.filtered_rows == 0


def test_low_threshold_columns_need_two_users(sandbox_db):
    query = REACH_BY_CAMPAIGN + ", impression_date_utc"
    query = query.replace("SELECT campaign,", "SELECT campaign, impression_date_utc,")
    controlled = sandbox_db.run(query, **MARCH)
    everything = sandbox_db.run(query, **MARCH, disable_aggregation_controls=True)
    expected = [row for row in rows(everything) if row[2] >= 2]
    assert rows(controlled) == expected
    assert controlled.filtered_rows == len(rows(everything)) - len(expected) > 0


def test_counting_a_very_high_column_does_not_raise_the_threshold(sandbox_db):
    output = sandbox_db.run(REACH_BY_CAMPAIGN, **MARCH)
    assert output.filtered_rows == 0
    assert "Lumen - Influencer Test" in by_first_column(output)


def test_outputting_a_very_high_column_needs_100_users(sandbox_db):
    output = sandbox_db.run("SELECT user_id, COUNT(*) AS n FROM dsp_impressions GROUP BY user_id", **MARCH)
    assert output.table.num_rows == 0 and output.filtered_rows > 100


def test_users_are_counted_through_ctes_grouped_by_user(sandbox_db):
    query = """
        WITH exposed AS (SELECT user_id, campaign, MIN(impression_dt_utc) AS first_seen
                         FROM dsp_impressions GROUP BY user_id, campaign)
        SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM exposed GROUP BY campaign"""
    controlled = by_first_column(sandbox_db.run(query, **MARCH))
    direct = by_first_column(sandbox_db.run(REACH_BY_CAMPAIGN, **MARCH, disable_aggregation_controls=True))
    assert controlled == {campaign: values[0] for campaign, values in direct.items() if values[0] >= 2}


def test_union_rows_keep_their_own_users(sandbox_db):
    query = """SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(bid_price) AS x
               FROM dsp_impressions GROUP BY campaign
               UNION ALL
               SELECT campaign, COUNT(DISTINCT user_id), SUM(spend) FROM sponsored_ads_traffic GROUP BY campaign"""
    controlled = sandbox_db.run(query, **MARCH)
    everything = sandbox_db.run(query, **MARCH, disable_aggregation_controls=True)
    assert {row[0] for row in rows(controlled)} == {row[0] for row in rows(everything) if row[1] >= 100}
    assert controlled.filtered_rows > 0


def test_distinct_union_removes_duplicates_and_counts_users(sandbox_db):
    query = "SELECT device_type FROM dsp_impressions UNION SELECT device_type FROM sponsored_ads_traffic"
    output = sandbox_db.run(query, **MARCH)
    assert sorted(r[0] for r in rows(output)) == ["Other", "PC", "Phone", "TV", "Tablet"]


# --- parameters -----------------------------------------------------------------------------


def test_custom_parameters_scalar_and_array(sandbox_db):
    query = """SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions
               WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign)
                 AND advertiser_id = CUSTOM_PARAMETER('advertiser')
               GROUP BY campaign"""
    campaigns = ["Lumen - Remarketing", "Lumen - Streaming TV", "Cobalt - Audio Ads"]
    parameters = {"campaigns": campaigns, "advertiser": 2002}
    output = sandbox_db.run(query, **MARCH, parameters=parameters)
    assert sorted(by_first_column(output)) == ["Lumen - Remarketing", "Lumen - Streaming TV"]


def test_a_parameter_without_a_value_is_a_compile_error(sandbox_db):
    with pytest.raises(CompileProblem, match="undeclared parameter missing"):
        sandbox_db.run("SELECT COUNT(*) FROM dsp_impressions WHERE campaign = CUSTOM_PARAMETER('missing')", **MARCH)


# --- joins and functions --------------------------------------------------------------------


def test_impressions_join_attributed_conversions_by_user(sandbox_db, raw_db):
    query = """
        WITH exposed AS (SELECT user_id, campaign FROM dsp_impressions GROUP BY user_id, campaign),
             converted AS (SELECT user_id, SUM(total_product_sales) AS sales
                           FROM amazon_attributed_events_by_conversion_time GROUP BY user_id)
        SELECT e.campaign, COUNT(DISTINCT e.user_id) AS converters, SUM(c.sales) AS sales
        FROM exposed e JOIN converted c ON e.user_id = c.user_id
        GROUP BY e.campaign"""
    output = sandbox_db.run(query, **MARCH, disable_aggregation_controls=True)
    assert output.columns == [("campaign", "STRING"), ("converters", "LONG"), ("sales", "DECIMAL")]
    expected = dict(
        raw_db.execute("""
        SELECT i.campaign, count(DISTINCT i.user_id) FROM dsp_impressions i
        WHERE i.impression_dt_utc >= '2025-03-01' AND i.impression_dt_utc < '2025-04-01'
          AND i.user_id IN (SELECT user_id FROM amazon_attributed_events_by_conversion_time
                            WHERE conversion_event_dt_utc >= '2025-03-01' AND conversion_event_dt_utc < '2025-04-01')
        GROUP BY 1""").fetchall()
    )
    assert {campaign: values[0] for campaign, values in by_first_column(output).items()} == expected
    controlled = sandbox_db.run(query, **MARCH)
    assert set(rows(controlled)) == {row for row in rows(output) if row[1] >= 2}


def test_amc_time_functions(sandbox_db, raw_db):
    output = sandbox_db.run(
        """SELECT MIN(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc)) AS shortest,
                  MAX(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc)) AS longest,
                  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 86400, 1, 0))
                      AS within_a_day,
                  COUNT(*) AS pairs
           FROM amazon_attributed_events_by_conversion_time""",
        **MARCH,
        disable_aggregation_controls=True,
    )
    shortest, longest, within_a_day, pairs = rows(output)[0]
    assert 0 <= shortest <= longest < 14 * 86400
    assert 0 < within_a_day < pairs
    local = sandbox_db.run(
        """SELECT COUNT(*) AS n FROM dsp_impressions
           WHERE advertiser = 'Lumen Home'
             AND CONVERT_TIME_ZONE_FROM_UTC(impression_dt_utc, 'America/New_York') <> impression_dt""",
        **MARCH,
        disable_aggregation_controls=True,
    )
    assert rows(local) == [(0,)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("SECONDS_BETWEEN(CAST('2025-03-01 00:00:00' AS TIMESTAMP), CAST('2025-03-01 01:00:30' AS TIMESTAMP))", 3630),
        ("CONTAINED_IN('PC', 'TV', 'PC')", True),
        ("CONTAINED_IN('Phone', 'TV', 'PC')", False),
        ("ARRAY_CONTAINS(CUSTOM_PARAMETER('list'), 2)", True),
        (
            "CONVERT_TIME_ZONE_FROM_UTC(CAST('2025-03-01 12:00:00' AS TIMESTAMP), 'America/New_York')",
            datetime(2025, 3, 1, 7),
        ),
        ("EPOCH_TO_UTC_TIMESTAMP(1700000000)", datetime(2023, 11, 14, 22, 13, 20)),
        ("EPOCH_TO_UTC_TIMESTAMP(1700000000123)", datetime(2023, 11, 14, 22, 13, 20, 123000)),
        ("DATE_TRUNC('DAY', CAST('2025-03-01 12:34:56' AS TIMESTAMP))", datetime(2025, 3, 1)),
        ("NVL(NULL, 'fallback')", "fallback"),
        ("IF(1 > 2, 'yes', 'no')", "no"),
        ("DAYOFWEEK(CAST('2025-03-02' AS DATE))", 1),  # a Sunday
        ("CAST('today' AS DATE)", date(2025, 4, 3)),
        ("CAST('now' AS TIMESTAMP)", datetime(2025, 4, 3, 12, 30)),
        ("CURRENT_DATE", date(2025, 4, 3)),
        ("HASH64('abc') = HASH64('abc')", True),
        ("NAMED_ROW('a', 1, 'b', 'x')", "{'a': 1, 'b': x}"),
    ],
)
def test_amc_functions(sandbox_db, expression, expected):
    output = sandbox_db.run(
        f"SELECT {expression} AS value, COUNT(*) AS n FROM conversions",
        **MARCH,
        parameters={"list": [1, 2, 3]},
        disable_aggregation_controls=True,
    )
    assert rows(output)[0][0] == expected


def test_collect_and_hash64(sandbox_db):
    output = sandbox_db.run(
        """SELECT advertiser, COLLECT(DISTINCT campaign) AS campaigns, MIN(HASH64(campaign)) AS h
           FROM dsp_impressions GROUP BY advertiser""",
        **MARCH,
    )
    assert output.columns == [("advertiser", "STRING"), ("campaigns", "STRING"), ("h", "LONG")]
    campaigns = by_first_column(output)["Lumen Home"][0]
    assert campaigns.startswith("[") and "Lumen - Remarketing" in campaigns


def test_output_columns_carry_amc_types(sandbox_db):
    output = sandbox_db.run(
        """SELECT impression_date_utc AS day, COUNT(*) AS n, CAST(COUNT(*) AS INTEGER) AS n32,
                  AVG(total_cost) AS avg_cost,
                  CAST(SUM(impression_cost) AS DECIMAL(20, 2)) AS cost, MAX(impression_dt_utc) AS last,
                  MAX(impression_cost) > 0 AS paid, 'x' AS label
           FROM dsp_impressions GROUP BY 1""",
        **MARCH,
    )
    types = [amc_type for _, amc_type in output.columns]
    assert types == ["DATE", "LONG", "INTEGER", "DOUBLE", "DECIMAL", "TIMESTAMP", "BOOLEAN", "STRING"]
    assert output.table.schema.field("n").type == pa.int64()
    assert output.table.schema.field("n32").type == pa.int32()
    assert output.table.num_rows == 31


def test_output_names_are_kept_as_written(sandbox_db):
    query = "SELECT Campaign, COUNT(*), SUM(impressions) AS Total_Impressions FROM dsp_impressions GROUP BY 1"
    output = sandbox_db.run(query, **MARCH)
    assert [name for name, _ in output.columns] == ["Campaign", "COUNT(*)", "Total_Impressions"]
    assert output.table.column_names == ["Campaign", "COUNT(*)", "Total_Impressions"]


def test_rows_come_sorted_unless_the_query_orders_them(sandbox_db):
    output = sandbox_db.run(REACH_BY_CAMPAIGN, **MARCH)
    names = [row[0] for row in rows(output)]
    assert names == sorted(names)
    ordered = sandbox_db.run(REACH_BY_CAMPAIGN + " ORDER BY reach DESC", **MARCH)
    reach = [row[1] for row in rows(ordered)]
    assert reach == sorted(reach, reverse=True)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "details"),
    [
        (
            "SELECT FOO(campaign) AS x FROM dsp_impressions",
            "From line 1, column 8: No match found for function signature FOO(<ANY>)",
        ),
        ("SELECT COUNT(*) FROM amazon_retail_purchases", "From line 1, column 22: Object 'amazon_retail_purchases' not found"),
        (
            "-- reads amazon_retail_purchases\nSELECT 'amazon_retail_purchases' AS t FROM amazon_retail_purchases",
            "From line 2, column 44: Object 'amazon_retail_purchases' not found",
        ),
        ("SELECT nope FROM dsp_impressions", "Column 'nope' not found in any table"),
        ("SELECT campaign FROM dsp_impressions WHERE", "Encountered"),
        ("SELECT BUILT_IN_PARAMETER('TODAY') AS x FROM dsp_impressions", "Unknown built-in parameter"),
        ("SELECT 1 AS a FROM dsp_impressions; SELECT 2 AS b FROM dsp_impressions", "Exactly one query"),
        ("SELECT COUNT(*) FROM EXTEND_TIME_WINDOW('dsp_impressions', 'P1M', 'P0D')", "not an ISO-8601 duration"),
        ("SELECT campaign + INTERVAL 1 DAY AS x FROM dsp_impressions", "Binder Error"),
    ],
)
def test_compile_errors(sandbox_db, sql, details):
    with pytest.raises(CompileProblem) as raised:
        sandbox_db.run(sql, **MARCH)
    assert details in raised.value.details
    assert raised.value.status == 400


def test_a_runtime_error_fails_the_execution(sandbox_db):
    with pytest.raises(QueryFailure) as raised:
        sandbox_db.run("SELECT CAST(campaign AS INTEGER) AS x, COUNT(*) AS n FROM dsp_impressions GROUP BY 1", **MARCH)
    assert raised.value.reason.startswith("Query execution failed: Conversion Error")


# --- determinism and threads ----------------------------------------------------------------


def test_two_independent_generations_give_the_same_results(sandbox_db, independent_file, sandbox_spec, sandbox_now):
    other = SandboxDatabase(sandbox_spec, independent_file.parent, clock=lambda: sandbox_now)
    try:
        spend = "SELECT ad_product_type, SUM(spend) AS spend FROM sponsored_ads_traffic GROUP BY 1"
        for query in (REACH_BY_CAMPAIGN, spend):
            window = {"window_start": datetime(2025, 2, 3), "window_end": datetime(2025, 2, 17)}
            assert rows(other.run(query, **window)) == rows(sandbox_db.run(query, **window))
    finally:
        other.close()


def test_runs_from_several_threads_at_once(sandbox_db):
    queries = [REACH_BY_CAMPAIGN, "SELECT device_type, COUNT(*) AS n FROM dsp_impressions GROUP BY 1"] * 4
    expected = [rows(sandbox_db.run(q, **MARCH)) for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: rows(sandbox_db.run(q, **MARCH)), queries))
    assert results == expected


def test_first_and_last_day(sandbox_db, sandbox_spec):
    assert sandbox_db.first_day == date(2025, 1, 1)
    assert sandbox_db.last_day == sandbox_spec.today - timedelta(days=2)


def test_sums_of_decimals_stay_decimal(sandbox_db):
    output = sandbox_db.run("SELECT SUM(total_product_sales) AS sales FROM conversions", **MARCH)
    assert output.columns == [("sales", "DECIMAL")]
    assert isinstance(rows(output)[0][0], Decimal)


def test_doubled_quotes_inside_a_string_literal_keep_the_apostrophe(sandbox_db, sandbox_now):
    from datetime import datetime

    output = sandbox_db.run(
        "SELECT 'Mother''s Day' AS name, COUNT(*) AS n FROM dsp_impressions GROUP BY 1",
        window_start=datetime(2025, 3, 1),
        window_end=datetime(2025, 3, 2),
        disable_aggregation_controls=True,
    )
    assert output.table.column("name").to_pylist() == ["Mother's Day"]


def test_a_query_nested_too_deeply_is_a_compile_error(sandbox_db):
    from datetime import datetime

    from amc_magic.sandbox.problems import CompileProblem

    sql = "SELECT campaign, SUM(" + "(" * 400 + "impressions" + ")" * 400 + ") AS i FROM dsp_impressions GROUP BY campaign"
    with pytest.raises(CompileProblem, match="nested too deeply"):
        sandbox_db.run(sql, window_start=datetime(2025, 3, 1), window_end=datetime(2025, 3, 2))
