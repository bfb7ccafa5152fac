-- analysis: sponsored ads clicks and spend per week of the time window, counted from TIME_WINDOW_START
-- source: amazon-marketing-cloud/amc-sql/expressions.md (BUILT_IN_PARAMETER); amc-sql/functions.md (SECONDS_BETWEEN, FLOOR)
SELECT
  ad_product_type,
  FLOOR(SECONDS_BETWEEN(BUILT_IN_PARAMETER('TIME_WINDOW_START'), event_dt_utc) / (60 * 60 * 24 * 7)) + 1 AS window_week,
  COUNT(DISTINCT user_id) AS reach,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000 AS spend
FROM sponsored_ads_traffic
GROUP BY 1, 2
