-- analysis: viewability of each DSP campaign: viewable over measurable impressions
-- source: amazon-marketing-cloud/datasources/dsp_views.md (viewable_impressions, measurable_impressions)
SELECT
  campaign,
  SUM(measurable_impressions) AS measurable_impressions,
  SUM(viewable_impressions) AS viewable_impressions,
  SUM(viewable_impressions) / NULLIF(SUM(measurable_impressions), 0) AS viewability_rate,
  COUNT(DISTINCT user_id) AS viewers
FROM dsp_views
GROUP BY campaign
