"""Every route by which a literal or parameter value can be compared with a HIGH or VERY_HIGH column
(amc_magic.sqlcheck.privacy.filter_problems), and the comparisons with real data that stay allowed."""

from __future__ import annotations

import re

import pytest
import sqlglot

from amc_magic import schema
from amc_magic.sqlcheck import AmcDialect, Problem, check
from amc_magic.sqlcheck.parsing import final_selects

IMPRESSIONS = "SELECT SUM(d.impressions) AS n FROM dsp_impressions d"
CITIES = "WITH cities AS (SELECT 'Seattle' AS c UNION ALL SELECT 'Tacoma') "

# id: (sql, where the problem is located: the first occurrence of this text, which starts with the
# column as written; the protected base column behind it)
REJECTED = {
    "where": (f"{IMPRESSIONS} WHERE d.city_name = 'Seattle'", "d.city_name", "dsp_impressions.city_name"),
    "where_reversed": (f"{IMPRESSIONS} WHERE 'Seattle' <> d.city_name", "d.city_name", "dsp_impressions.city_name"),
    "having": (
        "SELECT city_name, SUM(impressions) AS n FROM dsp_impressions GROUP BY city_name HAVING city_name = 'Seattle'",
        "city_name = ",
        "dsp_impressions.city_name",
    ),
    "having_on_output_alias": (
        "SELECT postal_code AS pc, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1 HAVING pc LIKE '981%'",
        "pc LIKE",
        "dsp_impressions.postal_code",
    ),
    "join_on": (
        "SELECT SUM(d.impressions) AS n FROM dsp_impressions d JOIN dsp_clicks c ON d.user_id = c.user_id AND c.postal_code = '98101'",
        "c.postal_code",
        "dsp_clicks.postal_code",
    ),
    "in_list": (f"{IMPRESSIONS} WHERE d.postal_code NOT IN ('98101', '98102')", "d.postal_code", "dsp_impressions.postal_code"),
    "in_subquery_of_literals": (
        f"{IMPRESSIONS} WHERE d.postal_code IN (SELECT '98101' UNION ALL SELECT '98102')",
        "d.postal_code",
        "dsp_impressions.postal_code",
    ),
    "in_subquery_of_literal_cte": (
        "WITH zips AS (SELECT '98101' AS pc) SELECT SUM(impressions) AS n FROM dsp_impressions WHERE postal_code IN (SELECT pc FROM zips)",
        "postal_code IN",
        "dsp_impressions.postal_code",
    ),
    "literal_in_subquery_of_column": (
        f"{IMPRESSIONS} WHERE 'Seattle' IN (SELECT c.city_name FROM dsp_clicks c)",
        "c.city_name",
        "dsp_clicks.city_name",
    ),
    "scalar_subquery": (f"{IMPRESSIONS} WHERE d.city_name = (SELECT 'Seattle')", "d.city_name", "dsp_impressions.city_name"),
    "case_when": (
        "SELECT SUM(CASE WHEN city_name = 'Seattle' THEN impressions ELSE 0 END) AS n FROM dsp_impressions",
        "city_name",
        "dsp_impressions.city_name",
    ),
    "simple_case": (
        "SELECT SUM(CASE city_name WHEN 'Seattle' THEN impressions ELSE 0 END) AS n FROM dsp_impressions",
        "city_name",
        "dsp_impressions.city_name",
    ),
    "case_in_group_by": (
        "SELECT CASE WHEN postal_code LIKE '981%' THEN 'wa' ELSE 'other' END AS region, SUM(impressions) AS n FROM dsp_impressions GROUP BY 1",
        "postal_code",
        "dsp_impressions.postal_code",
    ),
    "if": ("SELECT SUM(IF(city_name = 'Seattle', impressions, 0)) AS n FROM dsp_impressions", "city_name", "dsp_impressions.city_name"),
    "nullif": ("SELECT COUNT(NULLIF(city_name, 'Seattle')) AS n FROM dsp_impressions", "city_name", "dsp_impressions.city_name"),
    "like": (f"{IMPRESSIONS} WHERE d.city_name LIKE 'Sea%'", "d.city_name", "dsp_impressions.city_name"),
    "coalesce": (f"{IMPRESSIONS} WHERE COALESCE(d.city_name, '') = 'Seattle'", "d.city_name", "dsp_impressions.city_name"),
    "upper": (f"{IMPRESSIONS} WHERE UPPER(d.city_name) = 'SEATTLE'", "d.city_name", "dsp_impressions.city_name"),
    "substring": (f"{IMPRESSIONS} WHERE SUBSTRING(d.postal_code, 1, 3) = '100'", "d.postal_code", "dsp_impressions.postal_code"),
    "between": (f"{IMPRESSIONS} WHERE d.postal_code BETWEEN '98000' AND '98999'", "d.postal_code", "dsp_impressions.postal_code"),
    "contained_in": (f"{IMPRESSIONS} WHERE CONTAINED_IN(d.postal_code, '98101', '98102')", "d.postal_code", "dsp_impressions.postal_code"),
    "custom_parameter": (f"{IMPRESSIONS} WHERE d.postal_code = CUSTOM_PARAMETER('zip')", "d.postal_code", "dsp_impressions.postal_code"),
    "array_contains_parameter": (
        f"{IMPRESSIONS} WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('zips'), d.postal_code)",
        "d.postal_code",
        "dsp_impressions.postal_code",
    ),
    "very_high_column": (f"{IMPRESSIONS} WHERE d.user_id = 'abc'", "d.user_id", "dsp_impressions.user_id"),
    "cte_of_literals_joined": (
        "WITH cities AS (SELECT 'Seattle' AS c) SELECT d.campaign, SUM(d.impressions) AS n "
        "FROM dsp_impressions d JOIN cities ON d.city_name = cities.c GROUP BY 1",
        "d.city_name",
        "dsp_impressions.city_name",
    ),
    "union_of_literals_cross_joined": (
        f"{CITIES}{IMPRESSIONS} CROSS JOIN cities WHERE d.city_name = cities.c",
        "d.city_name",
        "dsp_impressions.city_name",
    ),
    "union_of_literals_padded_with_null": (
        "WITH z AS (SELECT '98101' AS pc UNION ALL SELECT NULL) SELECT SUM(d.impressions) AS n FROM dsp_impressions d JOIN z ON z.pc = d.postal_code",
        "d.postal_code",
        "dsp_impressions.postal_code",
    ),
    "values_joined": (
        f"{IMPRESSIONS} JOIN (VALUES ('98101'), ('98102')) v(pc) ON v.pc = d.postal_code",
        "d.postal_code",
        "dsp_impressions.postal_code",
    ),
    "values_without_column_names": (
        f"{IMPRESSIONS} JOIN (VALUES ('98101')) v ON v.col1 = d.postal_code",
        "d.postal_code",
        "dsp_impressions.postal_code",
    ),
    "values_in_a_cte": (
        "WITH z AS (SELECT pc FROM (VALUES ('98101'), ('98102')) t(pc)) SELECT SUM(impressions) AS n FROM dsp_impressions WHERE postal_code IN (SELECT pc FROM z)",
        "postal_code IN",
        "dsp_impressions.postal_code",
    ),
    "subquery_of_literals_joined": (
        f"{IMPRESSIONS} JOIN (SELECT 'Seattle' AS c UNION SELECT 'Tacoma') u ON u.c = d.city_name",
        "d.city_name",
        "dsp_impressions.city_name",
    ),
    "chain_of_ctes_with_star_and_column_list": (
        "WITH a AS (SELECT 'Seattle' AS city), b AS (SELECT * FROM a), c (town) AS (SELECT UPPER(city) FROM b) "
        f"{IMPRESSIONS} JOIN c ON UPPER(d.city_name) = c.town",
        "d.city_name",
        "dsp_impressions.city_name",
    ),
    "parameter_in_a_cte": (
        f"WITH p AS (SELECT CUSTOM_PARAMETER('zip') AS pc) {IMPRESSIONS} JOIN p ON d.postal_code = p.pc",
        "d.postal_code",
        "dsp_impressions.postal_code",
    ),
    "join_using": (
        f"WITH c AS (SELECT 'Seattle' AS city_name, 1 AS one) {IMPRESSIONS} JOIN c USING (city_name)",
        "city_name)",
        "dsp_impressions.city_name",
    ),
    "very_high_column_via_literal_cte": (
        "WITH u AS (SELECT 'abc' AS user_id) SELECT COUNT(DISTINCT d.user_id) AS n FROM dsp_impressions d JOIN u ON d.user_id = u.user_id",
        "d.user_id =",
        "dsp_impressions.user_id",
    ),
    "correlated_exists_over_values": (
        f"{IMPRESSIONS} WHERE EXISTS (SELECT 1 FROM (VALUES ('Seattle')) v(c) WHERE v.c = d.city_name)",
        "d.city_name)",
        "dsp_impressions.city_name",
    ),
    "cte_selecting_the_column_filtered_outside": (
        "WITH a AS (SELECT city_name AS town, impressions FROM dsp_impressions) SELECT SUM(impressions) AS n FROM a WHERE town = 'Seattle'",
        "town =",
        "dsp_impressions.city_name",
    ),
    "derived_column_through_two_ctes": (
        "WITH a AS (SELECT UPPER(city_name) AS uc, impressions FROM dsp_impressions), b AS (SELECT uc AS x, impressions FROM a) "
        "SELECT SUM(impressions) AS n FROM b WHERE x = 'SEATTLE'",
        "x =",
        "dsp_impressions.city_name",
    ),
    "having_against_an_aggregate_of_a_literal_cte": (
        "WITH c AS (SELECT 'Seattle' AS c) SELECT d.city_name, SUM(d.impressions) AS n FROM dsp_impressions d CROSS JOIN c "
        "GROUP BY d.city_name HAVING d.city_name = MAX(c.c)",
        "d.city_name = MAX",
        "dsp_impressions.city_name",
    ),
}

ALLOWED = {
    "join_on_user_id": "SELECT i.campaign, COUNT(DISTINCT c.user_id) AS u FROM dsp_impressions i JOIN conversions c ON i.user_id = c.user_id GROUP BY 1",
    "join_using_user_id": "SELECT SUM(i.impressions) AS n FROM dsp_impressions i JOIN dsp_clicks c USING (user_id)",
    "join_on_high_columns": "SELECT SUM(i.impressions) AS n FROM dsp_impressions i JOIN dsp_clicks c ON COALESCE(i.postal_code, '') = COALESCE(c.postal_code, '')",
    "in_subquery_of_table_data": "SELECT campaign, COUNT(DISTINCT user_id) AS u FROM dsp_impressions WHERE user_id IN (SELECT user_id FROM conversions) GROUP BY 1",
    "exists_on_high_column": "SELECT SUM(impressions) AS n FROM dsp_impressions d WHERE EXISTS (SELECT 1 FROM dsp_clicks c WHERE c.postal_code = d.postal_code)",
    "time_window": "SELECT SUM(impressions) AS n FROM dsp_impressions WHERE impression_dt_utc >= BUILT_IN_PARAMETER('TIME_WINDOW_START')",
    "time_window_through_a_cte": (
        "WITH w AS (SELECT BUILT_IN_PARAMETER('TIME_WINDOW_START') AS ws) "
        "SELECT SUM(d.impressions) AS n FROM dsp_impressions d CROSS JOIN w WHERE d.impression_dt_utc >= w.ws"
    ),
    "is_null": "SELECT SUM(impressions) AS n FROM dsp_impressions WHERE city_name IS NULL OR user_id IS NOT NULL",
    "null_from_a_cte": "WITH z AS (SELECT NULL AS pc) SELECT SUM(d.impressions) AS n FROM dsp_impressions d JOIN z ON z.pc = d.postal_code",
    "literal_cte_on_a_low_column": (
        f"{CITIES}SELECT d.campaign, SUM(d.impressions) AS n FROM dsp_impressions d JOIN cities ON d.campaign = cities.c GROUP BY 1"
    ),
    "values_on_a_low_column": "SELECT SUM(impressions) AS n FROM dsp_impressions WHERE campaign IN (SELECT c FROM (VALUES ('a')) v(c))",
    "literal_tag_next_to_user_id": (
        "WITH c AS (SELECT user_id, 'converted' AS tag FROM conversions GROUP BY user_id) "
        "SELECT c.tag, COUNT(DISTINCT d.user_id) AS u FROM dsp_impressions d LEFT JOIN c ON c.user_id = d.user_id GROUP BY 1"
    ),
    "union_of_table_data_and_a_literal": (
        "WITH z AS (SELECT postal_code AS pc FROM dsp_clicks UNION ALL SELECT 'x') "
        "SELECT SUM(d.impressions) AS n FROM dsp_impressions d JOIN z ON z.pc = d.postal_code"
    ),
    "count_subquery": "SELECT SUM(impressions) AS n FROM dsp_impressions WHERE postal_code = (SELECT COUNT(*) FROM dsp_clicks)",
    "literal_only_in_an_inner_comparison": "SELECT SUM(IF(city_name IS NULL, 1, 0)) AS unknown_city FROM dsp_impressions",
    "counted_very_high_column": "SELECT COUNT(DISTINCT IF(campaign = 'x', user_id, NULL)) AS u FROM dsp_impressions",
}


def literal_filters(sql: str) -> list[Problem]:
    return [p for p in check(sql) if p.code == "literal_filter"]


def threshold_of(table: str, column: str) -> schema.Threshold:
    found = schema.TABLES[table].column(column)
    assert found is not None, f"{table}.{column} left the schema"
    return found.threshold


@pytest.mark.parametrize(("sql", "at", "base"), REJECTED.values(), ids=REJECTED.keys())
def test_a_literal_compared_on_any_route_is_rejected(sql: str, at: str, base: str) -> None:
    problems = check(sql)
    assert [p.code for p in problems] == ["literal_filter"], [p.format() for p in problems]
    problem = problems[0]
    table, column = base.split(".")
    threshold = threshold_of(table, column)
    assert threshold >= schema.Threshold.HIGH
    assert (problem.severity, problem.line, problem.column) == ("error", 1, sql.index(at) + 1)
    assert f"has aggregation threshold {threshold.name} and cannot be compared with a literal or parameter value" in problem.message
    name = re.match(r"(?:\w+\.)?(\w+)", at).group(1)  # as written, without its table qualifier
    expected = f"Column '{name}'" if name == column else f"Column '{name}' (from {table}.{column})"
    assert problem.message.startswith(expected), problem.message


@pytest.mark.parametrize("sql", ALLOWED.values(), ids=ALLOWED.keys())
def test_comparisons_with_table_data_built_in_parameters_and_null_are_allowed(sql: str) -> None:
    assert check(sql) == []


def _columns() -> list[tuple[str, schema.Column]]:
    return [(table.name, column) for table in schema.TABLES.values() for column in table.columns]


def test_every_protected_column_of_the_schema_is_guarded_and_no_other() -> None:
    """Straight and through a CTE of literals, for whatever columns the schema holds."""
    protected = 0
    for table, column in _columns():
        where = f"""SELECT COUNT(1) AS n FROM {table} WHERE "{column.name}" = 'x'"""
        joined = f"""WITH lit AS (SELECT 'x' AS v) SELECT COUNT(1) AS n FROM {table} t JOIN lit ON t."{column.name}" = lit.v"""
        for sql in (where, joined):
            found = literal_filters(sql)
            if column.threshold >= schema.Threshold.HIGH:
                assert len(found) == 1, sql
                assert f"Column '{column.name}' has aggregation threshold {column.threshold.name} and" in found[0].message
            else:
                assert found == [], sql
        protected += column.threshold >= schema.Threshold.HIGH
    assert protected >= 3  # at least postal_code, city_name and user_id of dsp_impressions


def test_a_long_chain_of_literal_ctes_is_followed_without_deep_recursion() -> None:
    chain = ", ".join(["c0 AS (SELECT '98101' AS pc)", *(f"c{i} AS (SELECT pc FROM c{i - 1})" for i in range(1, 400))])
    sql = f"WITH {chain} SELECT SUM(impressions) AS n FROM dsp_impressions WHERE postal_code IN (SELECT pc FROM c399)"
    assert [p.code for p in check(sql)] == ["literal_filter"]


def test_final_selects_lists_every_branch_of_nested_set_operations() -> None:
    tree = sqlglot.parse_one("(SELECT 1 AS a UNION ALL SELECT 2) UNION SELECT 3", read=AmcDialect)
    assert [s.sql() for s in final_selects(tree)] == ["SELECT 1 AS a", "SELECT 2", "SELECT 3"]
