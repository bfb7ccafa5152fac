-- analysis: optimal frequency: users, buyers and purchase rate by DSP frequency bucket (per-user UNION ALL of impressions and purchases, as the IQ builds it)
-- source: amazon-marketing-cloud/playbooks/optimal-frequency-analysis.md (Query to measure an aggregate metric: events UNION ALL, events_by_user, frequency)
WITH events AS (
  SELECT user_id, SUM(impressions) AS impressions, 0 AS purchases, SUM(total_cost / 100000) AS total_cost
  FROM dsp_impressions
  GROUP BY 1
  UNION ALL
  SELECT user_id, 0 AS impressions, SUM(purchases) AS purchases, 0 AS total_cost
  FROM amazon_attributed_events_by_traffic_time
  WHERE ad_product_type IS NULL
  GROUP BY 1
),
events_by_user AS (
  SELECT user_id, SUM(impressions) AS frequency, SUM(purchases) AS purchases, SUM(total_cost) AS total_cost
  FROM events
  GROUP BY user_id
)
SELECT
  CASE WHEN frequency >= 10 THEN '10+' WHEN frequency >= 5 THEN '05-09' ELSE CONCAT('0', CAST(frequency AS STRING)) END AS frequency_bucket,
  COUNT(DISTINCT user_id) AS users,
  SUM(IF(purchases > 0, 1, 0)) AS buyers,
  SUM(IF(purchases > 0, 1, 0)) / COUNT(DISTINCT user_id) AS purchase_rate,
  SUM(total_cost) AS total_cost
FROM events_by_user
WHERE frequency > 0
GROUP BY 1
