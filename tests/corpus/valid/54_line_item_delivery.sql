-- analysis: delivery of each DSP line item: impressions, reach, cost and CPM
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (line_item, total_cost)
SELECT
  campaign,
  line_item,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach,
  SUM(total_cost) / 100000 AS cost,
  SUM(total_cost) / 100000 / SUM(impressions) * 1000 AS cpm
FROM dsp_impressions
GROUP BY campaign, line_item
