-- analysis: DSP cost and CPM of each campaign (total_cost is in millicents: divide by 100,000)
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (total_cost); playbooks/CJA.md (cost conversion note)
SELECT
  campaign_id,
  campaign,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000 AS total_cost,
  (SUM(total_cost) / 100000) / SUM(impressions) * 1000 AS cpm
FROM dsp_impressions
GROUP BY campaign_id, campaign
