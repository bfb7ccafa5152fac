-- analysis: purchase rate of users exposed to DSP and sponsored ads together versus one channel alone, per advertiser
-- source: amazon-marketing-cloud/playbooks/enhanced_scoring_for_overlapping_audiences.md (exposure groups and purchasers per user_id); playbooks/optimal-frequency-analysis.md (UNION ALL of per-user events)
WITH user_events AS (
  SELECT advertiser, user_id, 1 AS in_dsp, 0 AS in_sa, 0 AS purchases
  FROM dsp_impressions
  GROUP BY advertiser, user_id
  UNION ALL
  SELECT advertiser, user_id, 0 AS in_dsp, 1 AS in_sa, 0 AS purchases
  FROM sponsored_ads_traffic
  GROUP BY advertiser, user_id
  UNION ALL
  SELECT advertiser, user_id, 0 AS in_dsp, 0 AS in_sa, SUM(total_purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE total_purchases > 0
  GROUP BY advertiser, user_id
),
per_user AS (
  SELECT advertiser, user_id, MAX(in_dsp) AS in_dsp, MAX(in_sa) AS in_sa, SUM(purchases) AS purchases
  FROM user_events
  GROUP BY advertiser, user_id
)
SELECT
  advertiser,
  CASE
    WHEN in_dsp = 1 AND in_sa = 1 THEN 'dsp_and_sa'
    WHEN in_dsp = 1 THEN 'dsp_only'
    ELSE 'sa_only'
  END AS exposure,
  COUNT(DISTINCT user_id) AS users,
  SUM(IF(purchases > 0, 1, 0)) AS buyers,
  SUM(IF(purchases > 0, 1, 0)) / COUNT(DISTINCT user_id) AS purchase_rate
FROM per_user
WHERE in_dsp = 1 OR in_sa = 1
GROUP BY 1, 2
