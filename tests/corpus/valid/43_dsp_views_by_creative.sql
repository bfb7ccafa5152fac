-- analysis: viewability by creative type and size, and the unmeasurable share
-- source: amazon-marketing-cloud/datasources/dsp_views.md (creative_type, creative_size, unmeasurable_viewable_impressions)
SELECT
  creative_type,
  creative_size,
  SUM(viewable_impressions) AS viewable_impressions,
  SUM(measurable_impressions) AS measurable_impressions,
  SUM(unmeasurable_viewable_impressions) AS unmeasurable_viewable_impressions,
  SUM(viewable_impressions) / NULLIF(SUM(measurable_impressions), 0) AS viewability_rate
FROM dsp_views
GROUP BY creative_type, creative_size
