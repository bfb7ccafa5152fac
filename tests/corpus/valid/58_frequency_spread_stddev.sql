-- analysis: spread of user frequency per campaign: average, standard deviation and maximum impressions per user
-- source: amazon-marketing-cloud/amc-sql/functions.md (Statistical functions: STDDEV_POP)
WITH user_frequency AS (
  SELECT campaign, user_id, SUM(impressions) AS frequency
  FROM dsp_impressions
  GROUP BY campaign, user_id
)
SELECT
  campaign,
  COUNT(DISTINCT user_id) AS reach,
  AVG(frequency) AS avg_frequency,
  STDDEV_POP(frequency) AS stddev_frequency,
  MAX(frequency) AS max_frequency
FROM user_frequency
GROUP BY campaign
