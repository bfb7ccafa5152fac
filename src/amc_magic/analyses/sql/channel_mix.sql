-- Reach, impressions and cost of DSP next to each sponsored ads product (after AMC's instructional
-- query "Media mix": a UNION ALL of dsp_impressions and sponsored_ads_traffic).
SELECT
  'dsp' AS channel,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000 AS cost
FROM dsp_impressions
UNION ALL
SELECT
  ad_product_type AS channel,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(spend) / 100000000 AS cost
FROM sponsored_ads_traffic
GROUP BY ad_product_type
