-- analysis: reach, impressions and purchasers of DSP campaigns built the way the path-to-conversion IQ does it (LEFT JOIN of converters, per-user dedupe)
-- source: amazon-marketing-cloud/playbooks/CJA.md (Instructional Query: Path to conversion by campaign group: converted, filter_impressions, filter_impressions_dedupe)
WITH impressions AS (
  SELECT campaign, user_id, MIN(impression_dt_utc) AS impression_dt_first, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY 1, 2
),
converted AS (
  SELECT user_id, MAX(conversion_event_dt_utc) AS conversion_event_dt_last, SUM(total_purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE total_purchases > 0
  GROUP BY 1
),
filter_impressions AS (
  SELECT
    i.user_id AS imp_user_id,
    c.user_id AS pur_user_id,
    i.campaign,
    i.impressions,
    COALESCE(c.purchases, 0) AS purchases
  FROM impressions i
  LEFT JOIN converted c ON c.user_id = i.user_id
  WHERE (c.user_id IS NOT NULL AND i.impression_dt_first < c.conversion_event_dt_last) OR c.user_id IS NULL
),
filter_impressions_dedupe AS (
  SELECT
    imp_user_id,
    SUM(impressions) AS impressions,
    MAX(IF(pur_user_id IS NOT NULL, 1, 0)) AS converted,
    MAX(purchases) AS purchases
  FROM filter_impressions
  GROUP BY imp_user_id
)
SELECT
  'dsp' AS channel,
  COUNT(DISTINCT imp_user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(converted) AS users_that_purchased,
  SUM(purchases) AS purchases
FROM filter_impressions_dedupe
