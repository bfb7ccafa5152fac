-- analysis: reach and cost of campaign groups defined in a VALUES table (campaign to group mapping)
-- source: amazon-marketing-cloud/amc-sql/basics.md (VALUES in a common table expression); playbooks/CJA.md (campaign groups)
WITH campaign_group (campaign_id, campaign_group) AS (
  VALUES
    (31001, 'prospecting'),
    (31003, 'prospecting'),
    (31002, 'remarketing')
)
SELECT
  COALESCE(g.campaign_group, 'other') AS campaign_group,
  COUNT(DISTINCT i.user_id) AS reach,
  SUM(i.impressions) AS impressions,
  SUM(i.total_cost) / 100000 AS cost
FROM dsp_impressions i
LEFT JOIN campaign_group g ON g.campaign_id = i.campaign_id
GROUP BY 1
