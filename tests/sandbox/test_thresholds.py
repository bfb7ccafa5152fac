"""The aggregation thresholds' rewrite on a handful of hand-made rows: the users it counts, the rows it keeps.

The rewritten query counts each row's users on their keys (``storage.USER_KEY``) and only up to the
row's threshold (``min_users``), so the hidden user columns must read ``min(distinct users, min_users)``
for groups of no, one, two and more users, NULL users included, and keep exactly the rows a full
``COUNT(DISTINCT user_id)`` would keep.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from amc_magic.sandbox import dialect, thresholds
from amc_magic.sandbox.storage import USER_KEY, keyed_view

CONTEXT = dialect.QueryContext(datetime(2026, 3, 1), datetime(2026, 4, 1), {}, datetime(2026, 4, 2))
GROUPS = {  # ad_product_type -> the user (key) of each of its rows; spend is the group's number
    "none": [None, None],
    "one": [1, 1, None],
    "two": [1, 2],
    "three": [1, 2, 3, 3, None],
}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """An in-memory keyed ``sponsored_ads_traffic`` holding :data:`GROUPS`, inside :data:`CONTEXT`'s window."""
    rows = [(group, k, user) for k, (group, users) in enumerate(GROUPS.items()) for user in users]
    table = pa.table(
        {
            "ad_product_type": [group for group, _, _ in rows],
            "spend": pa.array([spend for _, spend, _ in rows], pa.int64()),
            "user_id": pa.array([None if user is None else f"{user:016x}" for *_, user in rows], pa.string()),
            "event_dt_utc": pa.array([datetime(2026, 3, 2)] * len(rows), pa.timestamp("us")),
            USER_KEY: pa.array([user for *_, user in rows], pa.uint64()),
        }
    )
    connection = duckdb.connect()
    connection.register("_rows", table)
    connection.execute(f"CREATE TABLE {keyed_view('sponsored_ads_traffic')} AS SELECT * FROM _rows")
    yield connection
    connection.close()


def planned(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[thresholds.ThresholdPlan, dict, list]:
    """The plan of ``sql``, each output row's first column -> its hidden user counts, and the rows kept."""
    plan = thresholds.plan(dialect.prepare(sql, CONTEXT).tree)
    table = con.sql(dialect.to_duckdb(plan.query, CONTEXT)).to_arrow_table()
    visible = table.num_columns - len(plan.paths)
    hidden = {row[0]: row[visible:] for row in zip(*(c.to_pylist() for c in table.columns), strict=True)}
    kept, filtered = thresholds.apply(table, plan)
    assert filtered == table.num_rows - kept.num_rows
    return plan, hidden, sorted(kept.column(0).to_pylist())


PER_USER = "SELECT ad_product_type, user_id, SUM(spend) AS spend FROM sponsored_ads_traffic GROUP BY 1, 2"
PER_USER_ABOVE_1 = PER_USER.replace("GROUP BY", "WHERE spend > 1 GROUP BY")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT ad_product_type, SUM(spend) AS spend FROM sponsored_ads_traffic GROUP BY ad_product_type",
        """WITH users AS (SELECT ad_product_type, user_id FROM sponsored_ads_traffic GROUP BY 1, 2)
           SELECT ad_product_type, COUNT(*) AS users FROM users GROUP BY ad_product_type""",
        "SELECT ad_product_type FROM sponsored_ads_traffic UNION SELECT ad_product_type FROM sponsored_ads_traffic",
        f"""WITH per_user AS ({PER_USER}),
                 regrouped AS (SELECT ad_product_type, user_id, MAX(spend) AS spend FROM per_user GROUP BY 1, 2)
            SELECT ad_product_type, SUM(spend) AS spend FROM regrouped GROUP BY ad_product_type""",
        f"""SELECT ad_product_type, COUNT(*) AS users
            FROM (SELECT ad_product_type, user_id FROM ({PER_USER}) AS per_user GROUP BY ad_product_type, user_id) AS r
            GROUP BY ad_product_type""",
        f"""WITH events AS ({PER_USER} UNION ALL {PER_USER_ABOVE_1}),
                 per_user AS (SELECT ad_product_type, user_id, COUNT(*) AS n FROM events GROUP BY 1, 2)
            SELECT ad_product_type, SUM(n) AS n FROM per_user GROUP BY ad_product_type""",
        """WITH pairs AS (SELECT ad_product_type, user_id FROM sponsored_ads_traffic
                          UNION SELECT ad_product_type, user_id FROM sponsored_ads_traffic)
           SELECT ad_product_type, COUNT(*) AS users FROM pairs GROUP BY ad_product_type""",
        f"""WITH per_user AS ({PER_USER}),
                 renamed AS (SELECT DISTINCT ad_product_type, user_id AS person FROM per_user)
            SELECT ad_product_type, COUNT(*) AS users FROM renamed GROUP BY ad_product_type""",
    ],
    ids=[
        "group by",
        "through a cte grouped by user",
        "distinct union",
        "cte regrouped by user",
        "sub-queries regrouped by user",
        "union all regrouped by user",
        "distinct union of users",
        "distinct renamed user",
    ],
)
def test_two_users_are_counted_up_to_two(con, sql):
    plan, hidden, kept = planned(con, sql)
    assert plan.min_users == 2  # ad_product_type is LOW
    assert hidden == {"none": (0,), "one": (1,), "two": (2,), "three": (2,)}
    assert kept == ["three", "two"]


def test_one_user_is_counted_up_to_one(con):
    plan, hidden, kept = planned(con, "SELECT spend, COUNT(*) AS n FROM sponsored_ads_traffic GROUP BY spend")
    assert plan.min_users == 1  # spend is NONE
    assert hidden == {0: (0,), 1: (1,), 2: (1,), 3: (1,)}
    assert kept == [1, 2, 3]


def test_a_hundred_users_are_counted_exactly(con):
    sql = "SELECT ad_product_type, MAX(event_dt_utc) AS seen FROM sponsored_ads_traffic GROUP BY ad_product_type"
    plan, hidden, kept = planned(con, sql)
    assert plan.min_users == 100  # event_dt_utc is MEDIUM
    assert hidden == {"none": (0,), "one": (1,), "two": (2,), "three": (3,)}
    assert kept == []


def test_a_group_by_user_id_keeps_each_groups_user(con):
    plan, hidden, kept = planned(con, "SELECT user_id, SUM(spend) AS spend FROM sponsored_ads_traffic GROUP BY user_id")
    assert plan.paths == (thresholds.PathKind.USER_IDS,) and plan.min_users == 100  # user_id is VERY_HIGH
    assert hidden == {f"{user:016x}": (user,) for user in (1, 2, 3)} | {None: (None,)}
    assert kept == []


def test_a_left_joined_source_keeps_its_users_through_a_dedupe_by_the_joined_user(con):
    sql = f"""
        WITH per_user AS ({PER_USER}),
             seen AS (SELECT user_id, MAX(event_dt_utc) AS seen FROM sponsored_ads_traffic GROUP BY user_id),
             joined AS (SELECT p.ad_product_type, p.user_id AS user_id, s.seen
                        FROM per_user p LEFT JOIN seen s ON s.user_id = p.user_id),
             dedupe AS (SELECT ad_product_type, user_id, MAX(seen) AS seen FROM joined GROUP BY 1, 2)
        SELECT ad_product_type, MAX(seen) AS seen FROM dedupe GROUP BY ad_product_type"""
    plan, hidden, kept = planned(con, sql)
    assert plan.min_users == 100  # event_dt_utc is MEDIUM
    assert hidden == {"none": (0, 0), "one": (1, 1), "two": (2, 2), "three": (3, 3)}
    assert kept == []


def test_a_group_by_the_left_joined_user_still_counts_the_left_sides_users(con):
    sql = f"""
        WITH per_user AS ({PER_USER}),
             first AS (SELECT user_id FROM sponsored_ads_traffic WHERE spend = 1 GROUP BY user_id)
        SELECT f.user_id AS first_user, COUNT(*) AS n
        FROM per_user p LEFT JOIN first f ON f.user_id = p.user_id
        GROUP BY f.user_id"""
    plan, hidden, kept = planned(con, sql)
    assert plan.min_users == 100  # user_id is VERY_HIGH
    assert plan.paths == (thresholds.PathKind.USER_COUNTS, thresholds.PathKind.USER_IDS)
    # per_user's users 2 and 3 never spent 1: they make up the NULL group, which has none of first's users
    assert hidden == {f"{1:016x}": (1, 1), None: (2, None)}
    assert kept == []
