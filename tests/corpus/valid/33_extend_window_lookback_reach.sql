-- analysis: how many users of the window's sponsored ads audience had already seen DSP ads in the prior 30 days
-- source: amazon-marketing-cloud/amc-sql/functions.md (EXTEND_TIME_WINDOW with ISO-8601 durations)
WITH earlier_dsp AS (
  SELECT user_id, SUM(impressions) AS impressions
  FROM EXTEND_TIME_WINDOW(dsp_impressions, 'P30D', 'P0D')
  WHERE impression_dt_utc < BUILT_IN_PARAMETER('TIME_WINDOW_START')
  GROUP BY user_id
),
sa AS (
  SELECT ad_product_type, user_id, SUM(clicks) AS clicks
  FROM sponsored_ads_traffic
  GROUP BY ad_product_type, user_id
)
SELECT
  s.ad_product_type AS ad_product_type,
  COUNT(DISTINCT s.user_id) AS sa_users,
  COUNT(DISTINCT d.user_id) AS sa_users_seen_dsp_before
FROM sa s
LEFT JOIN earlier_dsp d ON d.user_id = s.user_id
GROUP BY s.ad_product_type
