-- analysis: path to conversion: the ordered sequence of ad channels each user met before buying, with reach and purchasers per path
-- source: amazon-marketing-cloud/playbooks/CJA.md (Instructional Query: Path to conversion by campaign group), channels instead of campaign groups
WITH events AS (
  SELECT 'DSP' AS channel, user_id, MIN(impression_dt_utc) AS event_time, 0 AS purchases
  FROM dsp_impressions
  GROUP BY 1, 2
  UNION ALL
  SELECT
    CASE ad_product_type
      WHEN 'sponsored_products' THEN 'SP'
      WHEN 'sponsored_brands' THEN 'SB'
      WHEN 'sponsored_display' THEN 'SD'
      ELSE 'STV'
    END AS channel,
    user_id,
    MIN(event_dt_utc) AS event_time,
    0 AS purchases
  FROM sponsored_ads_traffic
  GROUP BY 1, 2
  UNION ALL
  SELECT 'PURCHASE' AS channel, user_id, MAX(conversion_event_dt_utc) AS event_time, SUM(total_purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE total_purchases > 0
  GROUP BY 1, 2
),
with_last_conversion AS (
  SELECT
    user_id,
    channel,
    event_time,
    purchases,
    MAX(IF(channel = 'PURCHASE', event_time, NULL)) OVER (PARTITION BY user_id) AS last_conversion
  FROM events
),
ordered AS (
  SELECT
    user_id,
    NAMED_ROW('order', ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY event_time), 'channel', channel) AS step
  FROM with_last_conversion
  WHERE channel <> 'PURCHASE' AND (last_conversion IS NULL OR event_time < last_conversion)
),
paths AS (
  SELECT user_id, ARRAY_SORT(COLLECT(DISTINCT step)) AS path
  FROM ordered
  GROUP BY user_id
),
outcomes AS (
  SELECT user_id, MAX(IF(channel = 'PURCHASE', 1, 0)) AS purchased, SUM(purchases) AS purchases
  FROM with_last_conversion
  GROUP BY user_id
)
SELECT
  p.path AS path,
  COUNT(DISTINCT p.user_id) AS path_users,
  SUM(o.purchased) AS users_that_purchased,
  SUM(o.purchases) AS purchases
FROM paths p
JOIN outcomes o ON o.user_id = p.user_id
GROUP BY p.path
