-- analysis: impressions per campaign labelled with the execution's time window (BUILT_IN_PARAMETER)
-- source: amazon-marketing-cloud/amc-sql/expressions.md (BUILT_IN_PARAMETER TIME_WINDOW_START / TIME_WINDOW_END); playbooks/keyword-clustering.md
SELECT
  BUILT_IN_PARAMETER('TIME_WINDOW_START') AS window_start,
  BUILT_IN_PARAMETER('TIME_WINDOW_END') AS window_end,
  campaign,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY campaign
