-- analysis: DSP click-through rate of each campaign: dsp_clicks joined to dsp_impressions by campaign
-- source: amazon-marketing-cloud/amc-sql/examples.md (Joining two data sets); datasources/dsp_clicks.md
WITH imps AS (
  SELECT campaign_id, campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY campaign_id, campaign
),
clk AS (
  SELECT campaign_id, SUM(clicks) AS clicks
  FROM dsp_clicks
  GROUP BY campaign_id
)
SELECT
  i.campaign AS campaign,
  i.impressions AS impressions,
  COALESCE(c.clicks, 0) AS clicks,
  COALESCE(c.clicks, 0) / i.impressions AS ctr
FROM imps i
LEFT JOIN clk c ON c.campaign_id = i.campaign_id
