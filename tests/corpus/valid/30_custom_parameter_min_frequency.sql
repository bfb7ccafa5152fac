-- analysis: users of each campaign reached at least min_frequency times (a scalar CUSTOM_PARAMETER)
-- source: amazon-marketing-cloud/reporting/create-workflow.md (INTEGER input parameter); playbooks/optimal-frequency-analysis.md
-- params: {"min_frequency": 3}
WITH user_frequency AS (
  SELECT campaign, user_id, SUM(impressions) AS frequency
  FROM dsp_impressions
  GROUP BY campaign, user_id
)
SELECT
  campaign,
  CUSTOM_PARAMETER('min_frequency') AS min_frequency,
  COUNT(DISTINCT IF(frequency >= CUSTOM_PARAMETER('min_frequency'), user_id, NULL)) AS users_at_min_frequency,
  COUNT(DISTINCT user_id) AS reach
FROM user_frequency
GROUP BY campaign
