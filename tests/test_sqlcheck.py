"""Tests of the local AMC SQL checks (amc_magic.sqlcheck)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from amc_magic import schema
from amc_magic.sqlcheck import AmcDialect, Problem, check, details, errors
from amc_magic.sqlcheck.balance import balance_connectors

REACH = """SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions WHERE campaign IN ('Spring Sale', 'Mother''s Day') GROUP BY campaign"""

TIME_TO_CONVERSION = """WITH imp AS (SELECT user_id, campaign, MIN(impression_dt_utc) AS first_imp FROM dsp_impressions GROUP BY user_id, campaign),
conv AS (SELECT user_id, MIN(conversion_event_dt_utc) AS conv_dt, SUM(total_product_sales) AS sales
         FROM amazon_attributed_events_by_conversion_time GROUP BY user_id)
SELECT i.campaign, COUNT(DISTINCT i.user_id) AS users, SUM(c.sales) AS sales,
       AVG(SECONDS_BETWEEN(i.first_imp, c.conv_dt)) AS avg_seconds
FROM imp i JOIN conv c ON i.user_id = c.user_id GROUP BY i.campaign"""

SPEND_RANK = """SELECT ad_product_type, SUM(spend)/100000000 AS spend_usd, RANK() OVER (ORDER BY SUM(spend) DESC) AS rnk
FROM sponsored_ads_traffic WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('products'), ad_product_type) GROUP BY ad_product_type"""


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


@pytest.mark.parametrize("sql", [REACH, TIME_TO_CONVERSION, SPEND_RANK], ids=["reach", "time_to_conversion", "spend_rank"])
def test_documented_examples_pass_clean(sql: str) -> None:
    assert check(sql) == []


# --- rejected constructs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "code", "line", "column", "message"),
    [
        (
            "SELECT campaign, SUM(impressions) AS n\nFROM dsp_impressions GROUP BY campaign LIMIT 10",
            "limit",
            2,
            40,
            "LIMIT (or FETCH FIRST) is not supported in AMC SQL. To keep the top rows, rank them with "
            "RANK() OVER (ORDER BY ...) in a subquery and filter on the rank.",
        ),
        (
            "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions\nGROUP BY campaign\nORDER BY n DESC",
            "order_by",
            3,
            1,
            "ORDER BY is not supported in AMC SQL outside a window function's OVER (...). "
            "Remove it and sort the result after download.",
        ),
        (
            "SELECT c.campaign, SUM(c.clicks) AS n FROM dsp_impressions i\n  RIGHT JOIN dsp_clicks c ON i.campaign = c.campaign GROUP BY 1",
            "right_join",
            2,
            3,
            "RIGHT JOIN is not supported in AMC SQL. Swap the two tables and use LEFT JOIN.",
        ),
        (
            "SELECT COUNT(*) AS n FROM (\n  SELECT * FROM dsp_impressions)",
            "select_star",
            2,
            10,
            "SELECT * is not allowed on table 'dsp_impressions': AMC does not export raw rows. "
            "List the columns you need and aggregate at least one.",
        ),
        (
            "SELECT DISTINCT campaign FROM dsp_impressions",
            "no_aggregation",
            1,
            1,
            "The query aggregates nothing. AMC requires at least one aggregated column, such as SUM(impressions) "
            "or COUNT(DISTINCT user_id), with GROUP BY for the other columns.",
        ),
        (
            "SELECT campaign, user_id, SUM(impressions) AS n\nFROM dsp_impressions GROUP BY 1, 2",
            "very_high_output",
            1,
            18,
            "Column 'user_id' has aggregation threshold VERY_HIGH and cannot be in the query output. "
            "Count it instead, e.g. COUNT(DISTINCT user_id), or drop it from the final SELECT.",
        ),
        (
            "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions\nWHERE postal_code = '98101' GROUP BY 1",
            "literal_filter",
            2,
            7,
            "Column 'postal_code' has aggregation threshold HIGH and cannot be compared with a literal or "
            "parameter value. Remove the filter, or group by a less sensitive column.",
        ),
        (
            "SELECT campain, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1",
            "unknown_column",
            1,
            8,
            "Column 'campain' not found in any table. Did you mean 'campaign'?",
        ),
        (
            "SELECT campaign, SUM(impressions) AS n\nFROM dsp_impresions GROUP BY 1",
            "unknown_table",
            2,
            6,
            "Object 'dsp_impresions' not found. Did you mean 'dsp_impressions'?",
        ),
    ],
    ids=["limit", "order_by", "right_join", "select_star", "no_aggregation", "very_high_output", "literal_filter", "unknown_column", "unknown_table"],
)
def test_rejected_construct_is_located_with_an_amc_like_message(sql: str, code: str, line: int, column: int, message: str) -> None:
    problem = only(check(sql))
    assert (problem.severity, problem.code, problem.line, problem.column) == ("error", code, line, column)
    assert problem.message == message
    assert problem.format() == f"From line {line}, column {column}: {message}"


def test_every_problem_of_a_bad_query_is_reported_in_text_order() -> None:
    sql = (
        "SELECT user_id, SUM(impressions) AS n FROM dsp_impressions d RIGHT JOIN dsp_clicks c ON d.user_id = c.user_id\n"
        "WHERE d.postal_code = '98101' GROUP BY 1 ORDER BY 1 LIMIT 10"
    )
    found = [(p.code, p.line, p.column) for p in check(sql)]
    assert found == [
        ("ambiguous_column", 1, 8),
        ("right_join", 1, 62),
        ("literal_filter", 2, 7),
        ("order_by", 2, 42),
        ("limit", 2, 53),
    ]


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1 FETCH FIRST 5 ROWS ONLY", "LIMIT (or FETCH FIRST)"),
        ("SELECT campaign, n FROM (SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1 ORDER BY n)", "ORDER BY"),
        ("SELECT c.campaign, SUM(c.clicks) AS n FROM dsp_impressions i RIGHT OUTER JOIN dsp_clicks c ON i.campaign = c.campaign GROUP BY 1", "RIGHT JOIN"),
        ("SELECT campaign, SUM(impressions) OVER (PARTITION BY campaign) AS n FROM dsp_impressions", "aggregates nothing"),
        ("SELECT i.*, c.clicks FROM dsp_impressions i JOIN dsp_clicks c ON i.user_id = c.user_id", "SELECT * is not allowed"),
    ],
    ids=["fetch", "order_by_in_subquery", "right_outer_join", "window_is_not_aggregation", "qualified_star"],
)
def test_rejected_construct_variants(sql: str, fragment: str) -> None:
    assert any(fragment in p.message for p in errors(check(sql))), [p.format() for p in check(sql)]


# --- thresholds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "line", "column", "fragment"),
    [
        (
            "WITH u AS (SELECT user_id, SUM(impressions) AS n FROM dsp_impressions GROUP BY user_id)\nSELECT user_id, n FROM u",
            2,
            8,
            "Column 'user_id' has aggregation threshold VERY_HIGH",
        ),
        (
            "WITH u AS (SELECT user_id AS uid, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1)\nSELECT x.uid, x.n FROM u x",
            2,
            8,
            "Column 'uid' (from dsp_impressions.user_id) has aggregation threshold VERY_HIGH",
        ),
        (
            "WITH u AS (SELECT user_id, SUM(impressions) AS n FROM dsp_impressions GROUP BY user_id)\nSELECT * FROM u",
            2,
            8,
            "Column '*' (from dsp_impressions.user_id)",
        ),
        (
            "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1\nUNION ALL SELECT event_id, SUM(clicks) FROM sponsored_ads_traffic GROUP BY 1",
            2,
            18,
            "Column 'event_id' has aggregation threshold VERY_HIGH",
        ),
        ("SELECT HASH64(user_id) AS h, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1", 1, 15, "VERY_HIGH"),
        ("SELECT campaign, MIN(user_id) AS u FROM dsp_impressions GROUP BY 1", 1, 22, "VERY_HIGH"),
    ],
    ids=["cte_pass_through", "renamed_in_cte", "star_over_cte", "union_branch", "hashed", "min"],
)
def test_very_high_column_in_the_output_is_rejected(sql: str, line: int, column: int, fragment: str) -> None:
    problem = only(check(sql))
    assert (problem.code, problem.line, problem.column) == ("very_high_output", line, column)
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("sql", "column", "fragment"),
    [
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE postal_code IN ('98101', '98102')", 57, "'postal_code' has aggregation threshold HIGH"),
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE city_name LIKE 'Sea%'", 57, "'city_name' has aggregation threshold HIGH"),
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE user_id = 'abc'", 57, "'user_id' has aggregation threshold VERY_HIGH"),
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE SUBSTRING(postal_code, 1, 3) = '981'", 67, "'postal_code'"),
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('zips'), postal_code)", 98, "'postal_code'"),
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE CONTAINED_IN(postal_code, '98101', '98102')", 70, "'postal_code'"),
        ("SELECT SUM(impressions) AS n FROM dsp_impressions WHERE postal_code BETWEEN '98000' AND '98999'", 57, "'postal_code'"),
        (
            "WITH a AS (SELECT postal_code AS pc, impressions FROM dsp_impressions) SELECT SUM(impressions) AS n FROM a WHERE pc = '98101'",
            114,
            "Column 'pc' (from dsp_impressions.postal_code) has aggregation threshold HIGH",
        ),
        (
            "SELECT i.campaign, SUM(i.impressions) AS n FROM dsp_impressions i JOIN dsp_clicks c ON i.campaign = c.campaign AND c.city_name = 'Seattle' GROUP BY 1",
            116,
            "'city_name'",
        ),
    ],
    ids=["in_list", "like", "very_high_equals", "derived", "array_contains_parameter", "contained_in", "between", "through_cte", "join_condition"],
)
def test_literal_filter_on_high_column_is_rejected(sql: str, column: int, fragment: str) -> None:
    problem = only(check(sql))
    assert (problem.code, problem.line, problem.column) == ("literal_filter", 1, column)
    assert fragment in problem.message
    assert "cannot be compared with a literal or parameter value" in problem.message


# --- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "code", "column", "message"),
    [
        (
            "SELECT i.campain, SUM(i.impressions) AS n FROM dsp_impressions i GROUP BY 1",
            "unknown_column",
            8,
            "Column 'campain' not found in table 'i'. Did you mean 'campaign'?",
        ),
        (
            "WITH a AS (SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1) SELECT campaing, n FROM a",
            "unknown_column",
            91,
            "Column 'campaing' not found in any table. Did you mean 'campaign'?",
        ),
        (
            "WITH imp AS (SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1) SELECT campaign, n FROM imps",
            "unknown_table",
            110,
            "Object 'imps' not found. Did you mean 'imp'?",
        ),
        (
            "SELECT Campain, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1",
            "unknown_column",
            8,
            "Column 'Campain' not found in any table. Did you mean 'campaign'?",
        ),
        (
            "SELECT xyz, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1",
            "unknown_column",
            8,
            "Column 'xyz' not found in any table.",
        ),
        (
            "SELECT x.campaign, SUM(i.impressions) AS n FROM dsp_impressions i GROUP BY 1",
            "unknown_alias",
            8,
            "Table 'x' not found: it is not a table or alias in this FROM clause.",
        ),
        (
            "SELECT campaign, SUM(i.impressions) AS n FROM dsp_impressions i JOIN dsp_clicks c ON i.user_id = c.user_id GROUP BY 1",
            "ambiguous_column",
            8,
            "Column 'campaign' is ambiguous (it is in 'i', 'c'): qualify it with a table alias.",
        ),
        (
            "SELECT i.campaign, SUM(i.impressions) AS n FROM dsp_impressions i JOIN dsp_clicks i ON 1 = 1 GROUP BY 1",
            "duplicate_alias",
            72,
            "Duplicate relation name 'i' in FROM clause: give each table its own alias.",
        ),
        (
            "SELECT campaign AS c, SUM(impressions) AS n FROM dsp_impressions WHERE c = 'x' GROUP BY 1",
            "unknown_column",
            72,
            "Column 'c' not found in any table.",
        ),
        (
            "SELECT campaign, SUM(impressions) AS n FROM TABLE(EXTEND_TIME_WINDOW(dsp_impresions, 'P14D', 'P1D')) GROUP BY 1",
            "unknown_table",
            70,
            "Object 'dsp_impresions' not found. Did you mean 'dsp_impressions'?",
        ),
    ],
    ids=[
        "qualified_did_you_mean",
        "cte_column",
        "cte_name",
        "original_spelling",
        "no_close_match",
        "unknown_alias",
        "ambiguous",
        "duplicate_alias",
        "alias_in_where",
        "extend_time_window",
    ],
)
def test_name_problems(sql: str, code: str, column: int, message: str) -> None:
    problem = only(check(sql))
    assert (problem.severity, problem.code, problem.line, problem.column, problem.message) == ("error", code, 1, column, message)


def test_unknown_name_is_reported_once_and_its_table_does_not_cascade() -> None:
    sql = "SELECT campain, foo, SUM(impressions) AS n FROM dsp_impressions GROUP BY campain, foo HAVING MAX(campain) > ''"
    assert [(p.code, p.column) for p in check(sql)] == [("unknown_column", 8), ("unknown_column", 17)]
    unknown_table = "SELECT anything, SUM(whatever) AS n FROM my_table GROUP BY 1"
    assert [p.code for p in check(unknown_table)] == ["unknown_table"]


# --- warning mode (a real instance's possibly incomplete schema) ----------------------------------


def instance_tables() -> dict[str, schema.Table]:
    """A real instance's schema as ``/dataSources`` describes it, missing a few columns."""
    items = schema.data_sources()
    impressions = next(i for i in items if i["dataSourceId"] == "dsp_impressions")
    impressions["columns"] = [c for c in impressions["columns"] if c["name"] != "creative_size"]  # type: ignore[index,union-attr]
    return schema.tables_from_data_sources(items)


def test_warning_mode_turns_unknown_names_into_warnings() -> None:
    sql = (
        "SELECT creative_size, campain, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1, 2\n"
        "UNION ALL SELECT a, b, SUM(c) FROM dsp_impressions_for_audiences GROUP BY 1, 2"
    )
    problems = check(sql, tables=instance_tables(), unknown_columns="warning")
    assert [(p.severity, p.code, p.line, p.column) for p in problems] == [
        ("warning", "unknown_column", 1, 8),
        ("warning", "unknown_column", 1, 23),
        ("warning", "unknown_table", 2, 36),
    ]
    assert "Did you mean 'campaign'?" in problems[1].message
    assert errors(problems) == [] and details(problems) == ""


def test_warning_mode_keeps_amc_rules_as_errors() -> None:
    sql = "SELECT campaign, user_id, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1, 2 LIMIT 5"
    problems = check(sql, tables=instance_tables(), unknown_columns="warning")
    assert [(p.severity, p.code) for p in problems] == [("error", "very_high_output"), ("error", "limit")]


def test_default_schema_is_complete_so_unknown_names_are_errors() -> None:
    sql = "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions_for_audiences GROUP BY 1"
    assert [(p.severity, p.code) for p in check(sql)] == [("error", "unknown_table")]


def test_table_keys_are_case_insensitive() -> None:
    tables = {"DSP_Impressions": schema.TABLES["dsp_impressions"]}
    assert check("SELECT Campaign, SUM(IMPRESSIONS) AS n FROM dsp_impressions GROUP BY 1", tables=tables) == []


# --- placeholders and syntax -----------------------------------------------------------------------


def test_leftover_placeholders_are_reported_before_parsing() -> None:
    sql = "SELECT campaign, SUM(impressions) AS n\nFROM dsp_impressions\nWHERE campaign IN ({{ campaigns }}) AND advertiser = '{{adv.name}}' -- {{ignored}}\nGROUP BY 1"
    problems = check(sql)
    assert [(p.code, p.line, p.column) for p in problems] == [("placeholder", 3, 20), ("placeholder", 3, 55)]
    assert problems[0].message == (
        "Placeholder {{ campaigns }} was not rendered. Define the variable 'campaigns' in the notebook "
        "(or pass it as a parameter), or remove the braces."
    )
    assert "'adv.name'" in problems[1].message


def test_placeholder_in_block_comment_is_ignored() -> None:
    assert check("/* {{x}} */ SELECT COUNT(1) AS n FROM dsp_impressions") == []


@pytest.mark.parametrize(
    ("sql", "line", "column", "fragment"),
    [
        ("SELECT campaign,\n  SUM(impressions) FROM dsp_impressions WHERE GROUP BY 1", 2, 47, 'Encountered "GROUP BY"'),
        ("SELECT campaign FROM", 1, 17, "got the end of the query"),
        ("SELECT campaign, SUM(x FROM t", 1, 24, "Expecting )"),
        ("SELECT a FROM t\nWHERE x = 'abc", 2, 11, "Unterminated quoted text: a ' has no closing '."),
        ("SELECT COUNT(1) AS n FROM dsp_impressions; SELECT 2", 1, 44, "Only one statement can run per query"),
        ("INSERT INTO t SELECT 1", 1, 1, "Only SELECT queries can run on AMC"),
    ],
    ids=["incomplete_where", "unexpected_end", "missing_paren", "unterminated_string", "two_statements", "not_a_query"],
)
def test_syntax_errors_are_located(sql: str, line: int, column: int, fragment: str) -> None:
    problem = only(check(sql))
    assert (problem.severity, problem.line, problem.column) == ("error", line, column)
    assert problem.code in {"syntax", "not_a_query"}
    assert fragment in problem.message


def test_empty_query_has_no_location() -> None:
    problem = only(check("  -- nothing here\n"))
    assert (problem.code, problem.line, problem.column) == ("syntax", None, None)
    assert problem.format() == "The query is empty: write one SELECT statement."


def test_details_joins_errors_like_an_amc_400_body() -> None:
    problems = [
        Problem("error", "limit", "LIMIT is not supported.", 2, 5),
        Problem("warning", "unknown_column", "Column 'x' not found in any table."),
        Problem("error", "no_aggregation", "The query aggregates nothing."),
    ]
    assert details(problems) == "Was unable to compile workflow.\nFrom line 2, column 5: LIMIT is not supported.\nThe query aggregates nothing."


# --- tricky but valid ------------------------------------------------------------------------------

VALID = {
    "extend_time_window": "SELECT campaign, SUM(impressions) AS imps FROM TABLE(EXTEND_TIME_WINDOW(dsp_impressions, 'P14D', 'P1D')) x GROUP BY campaign",
    "extend_time_window_bare": "SELECT d.campaign, SUM(d.impressions) AS imps FROM EXTEND_TIME_WINDOW(dsp_impressions, 'P14D', 'P1D') d GROUP BY d.campaign",
    "values_cte": "WITH t(test) AS (VALUES (20), (45)) SELECT STDDEV(test) AS s FROM t",
    "group_by_alias": "SELECT advertiser, IF(campaign SIMILAR TO '^BRAND_A.*', 'A', 'OTHER') AS brand, SUM(impressions) AS n FROM dsp_impressions GROUP BY advertiser, brand",
    "frequency_buckets": """SELECT advertiser, IF(impressions < 10, CONCAT('frequency_', impressions), 'frequency_10+') AS bucket,
  COUNT(DISTINCT user_id) AS users
FROM (SELECT advertiser, user_id, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY advertiser, user_id)
GROUP BY advertiser, bucket""",
    "union_all": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1 UNION ALL SELECT campaign, SUM(clicks) FROM dsp_clicks GROUP BY 1",
    "union_in_cte": "WITH u AS (SELECT user_id, campaign FROM dsp_impressions UNION SELECT user_id, campaign FROM dsp_clicks) SELECT campaign, COUNT(DISTINCT user_id) AS users FROM u GROUP BY campaign",
    "named_window": "SELECT campaign, RANK() OVER w AS r, SUM(impressions) AS s FROM dsp_impressions GROUP BY campaign WINDOW w AS (ORDER BY SUM(impressions))",
    "top_n_by_rank": "SELECT campaign, imps FROM (SELECT campaign, SUM(impressions) AS imps, RANK() OVER (ORDER BY SUM(impressions) DESC) AS r FROM dsp_impressions GROUP BY campaign) WHERE r <= 10",
    "row_number_partition": "SELECT campaign, ROW_NUMBER() OVER (PARTITION BY advertiser ORDER BY campaign) AS rn, SUM(impressions) AS n FROM dsp_impressions GROUP BY campaign, advertiser",
    "window_partition_by_user": "SELECT campaign, SUM(n) AS total FROM (SELECT campaign, SUM(impressions) OVER (PARTITION BY user_id) AS n FROM dsp_impressions) GROUP BY campaign",
    "correlated_exists": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions i WHERE EXISTS (SELECT 1 FROM dsp_clicks c WHERE c.user_id = i.user_id) GROUP BY campaign",
    "in_subquery_on_user": "SELECT campaign, COUNT(DISTINCT user_id) AS u FROM dsp_impressions WHERE user_id IN (SELECT user_id FROM conversions) GROUP BY campaign",
    "scalar_subquery": "SELECT campaign, SUM(impressions) / (SELECT SUM(impressions) FROM dsp_impressions) AS share FROM dsp_impressions GROUP BY campaign",
    "upper_case_names": "SELECT CAMPAIGN, Sum(Impressions) AS N FROM DSP_IMPRESSIONS D GROUP BY d.Campaign",
    "quoted_identifiers": 'SELECT "campaign" AS "Campaign Name", `advertiser`, SUM(impressions) AS imps FROM dsp_impressions GROUP BY 1, 2',
    "join_using": "SELECT campaign_id, SUM(clicks) AS c FROM dsp_impressions LEFT JOIN dsp_clicks USING (campaign_id) GROUP BY campaign_id",
    "user_is_not_null": "SELECT campaign, COUNT(DISTINCT user_id) AS u FROM dsp_impressions WHERE user_id IS NOT NULL GROUP BY 1",
    "user_tested_in_if": "SELECT c.campaign, SUM(IF(c.user_id IS NOT NULL, 1, 0)) AS converted FROM dsp_impressions c GROUP BY 1",
    "join_on_user": "SELECT i.campaign, COUNT(DISTINCT c.user_id) AS u FROM dsp_impressions i JOIN conversions c ON i.user_id = c.user_id GROUP BY 1",
    "join_on_high_columns": "SELECT i.campaign, SUM(i.impressions) AS n FROM dsp_impressions i JOIN dsp_clicks c ON i.postal_code = c.postal_code GROUP BY 1",
    "group_by_high_column": "SELECT postal_code, SUM(impressions) AS n FROM dsp_impressions GROUP BY postal_code",
    "time_window_parameters": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE impression_dt_utc >= BUILT_IN_PARAMETER('TIME_WINDOW_START') AND impression_dt_utc < BUILT_IN_PARAMETER('TIME_WINDOW_END') GROUP BY 1",
    "amc_functions": """SELECT CONVERT_TIME_ZONE_FROM_UTC(impression_dt_utc, 'America/New_York') AS local_ts, EPOCH_TO_UTC_TIMESTAMP(1700000000) AS e,
DATE_TRUNC('DAY', impression_dt_utc) AS day, NVL(campaign, 'none') AS c, HASH64(campaign) AS h, COLLECT(DISTINCT device_type) AS devices,
CONTAINED_IN(device_type, 'Phone', 'TV') AS mobile, SUM(impressions) AS n
FROM dsp_impressions GROUP BY 1, 2, 3, 4, 5, 7""",
    "having_on_count_of_users": "SELECT campaign, COUNT(DISTINCT user_id) AS u FROM dsp_impressions GROUP BY campaign HAVING COUNT(DISTINCT user_id) > 100 AND u > 5",
    "cte_column_list": "WITH a (camp, n) AS (SELECT campaign, SUM(impressions) FROM dsp_impressions GROUP BY 1) SELECT camp, n FROM a",
    "star_over_cte": "WITH a AS (SELECT campaign, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1) SELECT * FROM a",
    "count_star": "SELECT COUNT(*) AS n FROM dsp_impressions",
    "cast_today": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE impression_date_utc < CAST('today' AS DATE) GROUP BY 1",
    "comments_and_semicolon": "-- reach\nSELECT campaign, /* users */ COUNT(DISTINCT user_id) AS reach -- trailing\nFROM dsp_impressions GROUP BY campaign;",
    "chained_ctes": "WITH a AS (SELECT user_id, SUM(impressions) AS n FROM dsp_impressions GROUP BY user_id), b AS (SELECT n, COUNT(DISTINCT user_id) AS users FROM a GROUP BY n) SELECT n, users FROM b",
    "derived_table_alias": "SELECT x.c, SUM(x.n) AS n FROM (SELECT campaign AS c, impressions AS n FROM dsp_impressions) x GROUP BY x.c",
    "between_medium_column": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE impression_dt_utc BETWEEN CAST('2024-01-01' AS TIMESTAMP) AND CAST('2024-01-31' AS TIMESTAMP) GROUP BY 1",
    "full_outer_join": "SELECT COALESCE(i.campaign, c.campaign) AS campaign, SUM(i.impressions) AS imps, SUM(c.clicks) AS clicks FROM dsp_impressions i FULL OUTER JOIN dsp_clicks c ON i.campaign = c.campaign GROUP BY 1",
    "cross_join_cte": "WITH p AS (SELECT SUM(impressions) AS total FROM dsp_impressions) SELECT i.campaign, SUM(i.impressions) / MAX(p.total) AS share FROM dsp_impressions i CROSS JOIN p GROUP BY i.campaign",
    "explode_collect": "SELECT d, COUNT(1) AS n FROM (SELECT EXPLODE(COLLECT(DISTINCT device_type)) AS d FROM dsp_impressions) GROUP BY d",
    "extract_hour": "SELECT EXTRACT(HOUR FROM impression_dt) AS h, SUM(impressions) AS n FROM dsp_impressions GROUP BY h",
    "approx_count_distinct_user": "SELECT campaign, APPROX_COUNT_DISTINCT(user_id) AS u FROM dsp_impressions GROUP BY 1",
    "percentile_only": "SELECT PERCENTILE(total_cost, .1) AS p, MEDIAN(total_cost) AS m FROM dsp_impressions",
    "custom_parameter_on_low_column": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE campaign_id = CUSTOM_PARAMETER('cid') GROUP BY 1",
    "interval_arithmetic": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE impression_dt_utc > CAST('now' AS TIMESTAMP) - INTERVAL '7' DAY GROUP BY 1",
    "mothers_day_literal": "SELECT campaign, SUM(impressions) AS n FROM dsp_impressions WHERE campaign = 'Mother''s Day' OR campaign LIKE '%''s%' GROUP BY 1",
    "table_name_as_qualifier": "SELECT dsp_impressions.campaign, SUM(dsp_impressions.impressions) AS n FROM dsp_impressions GROUP BY 1",
}


@pytest.mark.parametrize("sql", VALID.values(), ids=VALID.keys())
def test_tricky_valid_queries_are_not_rejected(sql: str) -> None:
    assert check(sql) == []


def test_a_query_nested_beyond_the_parser_is_a_warning_not_a_crash():
    sql = "SELECT campaign, SUM(" + "(" * 400 + "impressions" + ")" * 400 + ") AS i FROM dsp_impressions GROUP BY campaign"
    problems = check(sql)
    assert [p.code for p in problems] == ["too_deep"]
    assert problems[0].severity == "warning"


def _depth(node: exp.Expr) -> int:
    depth = 0
    while node.parent is not None:
        node, depth = node.parent, depth + 1
    return depth


def test_balancing_and_or_chains_keeps_the_sql_and_makes_them_shallow() -> None:
    sql = "SELECT a FROM t WHERE " + " OR ".join(f"x = {n} AND (y = {n} OR z = 1) AND w = 2" for n in range(64))
    tree = sqlglot.parse_one(sql, read=AmcDialect)
    before = tree.sql()
    balance_connectors(tree)
    assert tree.sql() == before  # same terms, same order, same precedence
    assert max(_depth(column) for column in tree.find_all(exp.Column)) < 20  # was over 64 deep


def test_a_5000_term_or_chain_is_checked_like_a_short_one() -> None:
    clean = "SELECT campaign, SUM(impressions) AS i FROM dsp_impressions WHERE " + " OR ".join(
        f"advertiser_id = {n}" for n in range(5000)
    )
    assert check(clean + " GROUP BY campaign") == []
    terms = [f"advertiser_id = {n}" for n in range(5000)]
    terms[1234] = "user_id = 'u1'"
    terms[2000] = terms[4000] = "advertiserid = 7"
    sql = "SELECT campaign, SUM(impressions) AS i FROM dsp_impressions WHERE " + " OR ".join(terms) + " GROUP BY campaign"
    problems = check(sql)
    assert [(p.code, p.column) for p in problems] == [
        ("literal_filter", sql.index("user_id = 'u1'") + 1),
        ("unknown_column", sql.index("advertiserid") + 1),  # reported once, where it first appears
    ]
    assert "Did you mean 'advertiser_id'?" in problems[1].message
