-- analysis: frequency distribution: users of each DSP campaign by how many impressions they saw (buckets)
-- source: amazon-marketing-cloud/playbooks/optimal-frequency-analysis.md (frequency by user, then users per frequency)
WITH user_frequency AS (
  SELECT
    campaign,
    user_id,
    SUM(impressions) AS frequency
  FROM dsp_impressions
  GROUP BY campaign, user_id
)
SELECT
  campaign,
  CASE
    WHEN frequency = 1 THEN '01'
    WHEN frequency = 2 THEN '02'
    WHEN frequency BETWEEN 3 AND 5 THEN '03-05'
    WHEN frequency BETWEEN 6 AND 10 THEN '06-10'
    ELSE '11+'
  END AS frequency_bucket,
  COUNT(DISTINCT user_id) AS users,
  SUM(frequency) AS impressions
FROM user_frequency
GROUP BY 1, 2
