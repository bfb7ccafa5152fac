"""How long the local SQL checks take, next to a bare sqlglot parse of the same SQL.

Run: ``.venv/bin/python bench/bench_sqlcheck.py`` (prints a markdown table).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import sqlglot

from amc_magic.sqlcheck import check

QUERIES = {
    "simple reach": """
SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions WHERE campaign IN ('Spring Sale', 'Mother''s Day') GROUP BY campaign
""",
    "two CTEs + join": """
WITH imp AS (SELECT user_id, campaign, MIN(impression_dt_utc) AS first_imp FROM dsp_impressions GROUP BY user_id, campaign),
conv AS (SELECT user_id, MIN(conversion_event_dt_utc) AS conv_dt, SUM(total_product_sales) AS sales
         FROM amazon_attributed_events_by_conversion_time GROUP BY user_id)
SELECT i.campaign, COUNT(DISTINCT i.user_id) AS users, SUM(c.sales) AS sales,
       AVG(SECONDS_BETWEEN(i.first_imp, c.conv_dt)) AS avg_seconds
FROM imp i JOIN conv c ON i.user_id = c.user_id GROUP BY i.campaign
""",
    "window + parameter": """
SELECT ad_product_type, SUM(spend)/100000000 AS spend_usd, RANK() OVER (ORDER BY SUM(spend) DESC) AS rnk
FROM sponsored_ads_traffic WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('products'), ad_product_type) GROUP BY ad_product_type
""",
    "path to conversion (4 CTEs, union)": """
WITH dsp AS (
  SELECT user_id, campaign, MIN(impression_dt_utc) AS first_seen, SUM(impressions) AS imps
  FROM dsp_impressions WHERE impression_dt_utc >= BUILT_IN_PARAMETER('TIME_WINDOW_START') GROUP BY user_id, campaign
), sa AS (
  SELECT user_id, campaign, MIN(event_dt_utc) AS first_seen, SUM(impressions) AS imps
  FROM sponsored_ads_traffic WHERE ad_product_type = 'sponsored_products' GROUP BY user_id, campaign
), touch AS (
  SELECT user_id, campaign, first_seen, imps, 'dsp' AS channel FROM dsp
  UNION ALL
  SELECT user_id, campaign, first_seen, imps, 'sa' AS channel FROM sa
), conv AS (
  SELECT user_id, MIN(event_dt_utc) AS conv_dt, SUM(total_product_sales) AS sales
  FROM conversions WHERE event_subtype = 'order' GROUP BY user_id
)
SELECT t.channel, t.campaign,
       IF(SECONDS_BETWEEN(t.first_seen, c.conv_dt) < 86400, 'same day', 'later') AS lag_bucket,
       COUNT(DISTINCT t.user_id) AS users, SUM(t.imps) AS impressions, SUM(c.sales) AS sales,
       DENSE_RANK() OVER (PARTITION BY t.channel ORDER BY SUM(c.sales) DESC) AS sales_rank
FROM touch t LEFT JOIN conv c ON t.user_id = c.user_id
GROUP BY t.channel, t.campaign, lag_bucket
""",
    "OR chain (2,000 terms)": "SELECT campaign, SUM(impressions) AS i FROM dsp_impressions WHERE "
    + " OR ".join(f"advertiser_id = {n}" for n in range(2000))
    + " GROUP BY campaign",
}
RUNS = 300
RUNS_BY_QUERY = {"OR chain (2,000 terms)": 20}  # long queries: fewer runs keep the benchmark short


def _timings(func: Callable[[str], object], sql: str, runs: int) -> list[float]:
    for _ in range(max(1, runs // 15)):  # warm-up
        func(sql)
    result = []
    for _ in range(runs):
        start = time.perf_counter()
        func(sql)
        result.append((time.perf_counter() - start) * 1000)
    return result


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    print("| query | check mean ms | check p95 ms | parse_one mean ms | ratio (mean) |\n|---|---:|---:|---:|---:|")
    for name, sql in QUERIES.items():
        assert check(sql) == [], (name, check(sql))
        runs = RUNS_BY_QUERY.get(name, RUNS)
        checked = _timings(check, sql, runs)
        parsed = _timings(sqlglot.parse_one, sql, runs)
        ratio = statistics.mean(checked) / statistics.mean(parsed)
        print(f"| {name} | {statistics.mean(checked):.2f} | {_p95(checked):.2f} | {statistics.mean(parsed):.2f} | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
