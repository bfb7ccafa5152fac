"""How long the local SQL checks take, next to a bare sqlglot parse of the same SQL.

Run: ``.venv/bin/python bench/bench_sqlcheck.py [--quick]`` (prints a markdown table).

Targets: a typical query checked in at most 10 ms (mean); the 2,000-term arithmetic chain in at
most 2x its parse.
"""

from __future__ import annotations

import argparse
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
    "arithmetic chain (2,000 terms)": "SELECT campaign, SUM(impressions + "
    + " + ".join(str(n) for n in range(1, 2000))
    + ") AS total FROM dsp_impressions GROUP BY campaign",
}
TYPICAL = ("simple reach", "two CTEs + join", "window + parameter", "path to conversion (4 CTEs, union)")
CHAIN = "arithmetic chain (2,000 terms)"
TYPICAL_MS, CHAIN_RATIO = 10.0, 2.0
RUNS = 300
QUICK_RUNS = 60
RUNS_BY_QUERY = {"OR chain (2,000 terms)": 20, CHAIN: 20}  # long queries: fewer runs keep the benchmark short
QUICK_RUNS_BY_QUERY = {"OR chain (2,000 terms)": 4, CHAIN: 8}


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


def collect(quick: bool = False) -> dict[str, object]:
    """Measure every query; return the detail lines (markdown) and the summary rows."""
    lines = ["| query | check mean ms | check p95 ms | parse_one mean ms | ratio (mean) |", "|---|---:|---:|---:|---:|"]
    means: dict[str, tuple[float, float]] = {}
    for name, sql in QUERIES.items():
        assert check(sql) == [], (name, check(sql))
        runs = (QUICK_RUNS_BY_QUERY.get(name, QUICK_RUNS) if quick else RUNS_BY_QUERY.get(name, RUNS))
        checked = _timings(check, sql, runs)
        parsed = _timings(sqlglot.parse_one, sql, runs)
        means[name] = (statistics.mean(checked), statistics.mean(parsed))
        ratio = means[name][0] / means[name][1]
        lines.append(
            f"| {name} | {means[name][0]:.2f} | {_p95(checked):.2f} | {means[name][1]:.2f} | {ratio:.1f}x |"
        )
    slowest = max(TYPICAL, key=lambda name: means[name][0])
    chain_check, chain_parse = means[CHAIN]
    rows = [
        dict(
            path=f"SQL checks, typical queries (slowest: {slowest})",
            baseline=f"{means[slowest][1]:.2f} ms (parse_one)",
            ours=f"{means[slowest][0]:.2f} ms",
            ratio=f"{means[slowest][0] / means[slowest][1]:.1f}x",
            target=f"<= {TYPICAL_MS:g} ms",
            met=means[slowest][0] <= TYPICAL_MS,
        ),
        dict(
            path="SQL checks, 2,000-term arithmetic chain",
            baseline=f"{chain_parse:.1f} ms (parse_one)",
            ours=f"{chain_check:.1f} ms",
            ratio=f"{chain_check / chain_parse:.2f}x",
            target=f"<= {CHAIN_RATIO:g}x parse",
            met=chain_check <= CHAIN_RATIO * chain_parse,
        ),
    ]
    return {"lines": lines, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    print("\n".join(collect(parser.parse_args().quick)["lines"]))


if __name__ == "__main__":
    main()
