-- Users of each DSP campaign by how many impressions they saw (after AMC's instructional query
-- "Optimal frequency": impressions per user first, then users per frequency).
WITH user_frequency AS (
  SELECT
    campaign,
    user_id,
    SUM(impressions) AS user_impressions
  FROM dsp_impressions
  WHERE campaign IN ({{campaigns}})
  GROUP BY campaign, user_id
)
SELECT
  campaign,
  LEAST(user_impressions, {{max_frequency}}) AS frequency,
  COUNT(DISTINCT user_id) AS users,
  SUM(user_impressions) AS impressions
FROM user_frequency
GROUP BY 1, 2
