-- analysis: reach, impressions and average frequency of each DSP campaign
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (user_id, impressions); playbooks/optimal-frequency-analysis.md
SELECT
  advertiser,
  campaign,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(impressions) / COUNT(DISTINCT user_id) AS avg_frequency
FROM dsp_impressions
GROUP BY advertiser, campaign
