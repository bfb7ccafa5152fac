-- analysis: reach of each DSP campaign in the first 7 days of the time window against the whole window
-- source: amazon-marketing-cloud/amc-sql/expressions.md (BUILT_IN_PARAMETER in a filter); amc-sql/functions.md (SECONDS_BETWEEN)
SELECT
  campaign,
  COUNT(DISTINCT IF(SECONDS_BETWEEN(BUILT_IN_PARAMETER('TIME_WINDOW_START'), impression_dt_utc) < 7 * 86400, user_id, NULL)) AS first_week_reach,
  COUNT(DISTINCT user_id) AS window_reach
FROM dsp_impressions
GROUP BY campaign
