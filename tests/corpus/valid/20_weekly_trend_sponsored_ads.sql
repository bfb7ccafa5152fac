-- analysis: weekly trend of sponsored ads clicks and spend per ad product (DATE_TRUNC to the week)
-- source: amazon-marketing-cloud/amc-sql/functions.md (DATE_TRUNC 'WEEK'); datasources/sponsored_ads_traffic.md
SELECT
  DATE_TRUNC('WEEK', event_dt_utc) AS week,
  ad_product_type,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000 AS spend,
  COUNT(DISTINCT user_id) AS reach
FROM sponsored_ads_traffic
GROUP BY 1, 2
