-- Reach and frequency of DSP campaigns (after AMC's instructional query "Reach and frequency by campaign").
SELECT
  campaign,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  CAST(SUM(impressions) AS DOUBLE) / COUNT(DISTINCT user_id) AS avg_frequency,
  SUM(total_cost) / 100000 AS cost
FROM dsp_impressions
WHERE campaign IN ({{campaigns}})
GROUP BY campaign
