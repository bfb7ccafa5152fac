-- analysis: viewable impressions of each campaign as a share of all its impressions (dsp_views joined to dsp_impressions)
-- source: amazon-marketing-cloud/datasources/dsp_views.md (every dsp_views impression is also in dsp_impressions)
WITH served AS (
  SELECT campaign_id, campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY campaign_id, campaign
),
viewed AS (
  SELECT campaign_id, SUM(viewable_impressions) AS viewable_impressions
  FROM dsp_views
  GROUP BY campaign_id
)
SELECT
  s.campaign AS campaign,
  s.impressions AS impressions,
  v.viewable_impressions AS viewable_impressions,
  v.viewable_impressions / s.impressions AS viewable_share
FROM served s
LEFT JOIN viewed v ON v.campaign_id = s.campaign_id
