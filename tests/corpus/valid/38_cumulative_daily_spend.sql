-- analysis: daily sponsored ads spend per ad product with a running total over the window (SUM OVER ORDER BY)
-- source: amazon-marketing-cloud/amc-sql/functions.md (window functions, PARTITION BY ... ORDER BY)
WITH daily AS (
  SELECT
    ad_product_type,
    event_date_utc,
    SUM(spend) / 100000000 AS spend,
    COUNT(DISTINCT user_id) AS reach
  FROM sponsored_ads_traffic
  GROUP BY ad_product_type, event_date_utc
)
SELECT
  ad_product_type,
  event_date_utc,
  spend,
  reach,
  SUM(spend) OVER (PARTITION BY ad_product_type ORDER BY event_date_utc ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_spend
FROM daily
