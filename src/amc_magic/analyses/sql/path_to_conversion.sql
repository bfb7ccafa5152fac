-- The order in which users first met each ad channel before their first purchase, with users and
-- purchasers per path (after AMC's instructional query "Path to conversion"). Channels: DSP, SP
-- (sponsored products), SB (sponsored brands), SD (sponsored display); ties keep that order. Each
-- user's first touches are window functions over the user's events, so every output row counts its
-- users directly.
WITH events AS (
  SELECT user_id, 'DSP' AS channel, impression_dt_utc AS event_time, 0 AS purchases
  FROM dsp_impressions
  UNION ALL
  SELECT
    user_id,
    CASE ad_product_type
      WHEN 'sponsored_products' THEN 'SP'
      WHEN 'sponsored_brands' THEN 'SB'
      WHEN 'sponsored_display' THEN 'SD'
    END AS channel,
    event_dt_utc AS event_time,
    0 AS purchases
  FROM sponsored_ads_traffic
  UNION ALL
  SELECT user_id, 'PURCHASE' AS channel, conversion_event_dt_utc AS event_time, total_purchases AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE total_purchases > 0
),
firsts AS (
  SELECT
    user_id,
    purchases,
    MIN(IF(channel = 'DSP', event_time, NULL)) OVER (PARTITION BY user_id) AS dsp_first,
    MIN(IF(channel = 'SP', event_time, NULL)) OVER (PARTITION BY user_id) AS sp_first,
    MIN(IF(channel = 'SB', event_time, NULL)) OVER (PARTITION BY user_id) AS sb_first,
    MIN(IF(channel = 'SD', event_time, NULL)) OVER (PARTITION BY user_id) AS sd_first,
    MIN(IF(channel = 'PURCHASE', event_time, NULL)) OVER (PARTITION BY user_id) AS first_purchase
  FROM events
),
before_purchase AS (
  SELECT
    user_id,
    purchases,
    IF(first_purchase IS NULL, 0, 1) AS purchased,
    IF(first_purchase IS NULL OR dsp_first < first_purchase, dsp_first, NULL) AS dsp_t,
    IF(first_purchase IS NULL OR sp_first < first_purchase, sp_first, NULL) AS sp_t,
    IF(first_purchase IS NULL OR sb_first < first_purchase, sb_first, NULL) AS sb_t,
    IF(first_purchase IS NULL OR sd_first < first_purchase, sd_first, NULL) AS sd_t
  FROM firsts
),
positions AS (
  SELECT
    user_id,
    purchases,
    purchased,
    IF(dsp_t IS NULL, NULL, 1 + IF(sp_t < dsp_t, 1, 0) + IF(sb_t < dsp_t, 1, 0) + IF(sd_t < dsp_t, 1, 0)) AS dsp_pos,
    IF(sp_t IS NULL, NULL, 1 + IF(dsp_t <= sp_t, 1, 0) + IF(sb_t < sp_t, 1, 0) + IF(sd_t < sp_t, 1, 0)) AS sp_pos,
    IF(sb_t IS NULL, NULL, 1 + IF(dsp_t <= sb_t, 1, 0) + IF(sp_t <= sb_t, 1, 0) + IF(sd_t < sb_t, 1, 0)) AS sb_pos,
    IF(sd_t IS NULL, NULL, 1 + IF(dsp_t <= sd_t, 1, 0) + IF(sp_t <= sd_t, 1, 0) + IF(sb_t <= sd_t, 1, 0)) AS sd_pos
  FROM before_purchase
),
paths AS (
  SELECT
    user_id,
    purchases,
    purchased,
    CONCAT_WS(
      ' > ',
      CASE 1 WHEN dsp_pos THEN 'DSP' WHEN sp_pos THEN 'SP' WHEN sb_pos THEN 'SB' WHEN sd_pos THEN 'SD' END,
      CASE 2 WHEN dsp_pos THEN 'DSP' WHEN sp_pos THEN 'SP' WHEN sb_pos THEN 'SB' WHEN sd_pos THEN 'SD' END,
      CASE 3 WHEN dsp_pos THEN 'DSP' WHEN sp_pos THEN 'SP' WHEN sb_pos THEN 'SB' WHEN sd_pos THEN 'SD' END,
      CASE 4 WHEN dsp_pos THEN 'DSP' WHEN sp_pos THEN 'SP' WHEN sb_pos THEN 'SB' WHEN sd_pos THEN 'SD' END
    ) AS path
  FROM positions
  WHERE COALESCE(dsp_pos, sp_pos, sb_pos, sd_pos) IS NOT NULL
)
SELECT
  path,
  COUNT(DISTINCT user_id) AS users,
  COUNT(DISTINCT IF(purchased = 1, user_id, NULL)) AS users_that_purchased,
  SUM(purchases) AS purchases,
  CAST(COUNT(DISTINCT IF(purchased = 1, user_id, NULL)) AS DOUBLE) / COUNT(DISTINCT user_id) AS conversion_rate
FROM paths
WHERE {{include_non_purchasers}} OR purchased = 1
GROUP BY path
