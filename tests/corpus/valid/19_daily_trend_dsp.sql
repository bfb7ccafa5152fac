-- analysis: daily trend of DSP impressions, reach and cost (DATE_TRUNC to the day)
-- source: amazon-marketing-cloud/amc-sql/functions.md (DATE_TRUNC)
SELECT
  DATE_TRUNC('DAY', impression_dt_utc) AS day,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000 AS cost
FROM dsp_impressions
GROUP BY 1
