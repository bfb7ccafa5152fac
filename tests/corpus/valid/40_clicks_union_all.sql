-- analysis: clicks and click reach of DSP (dsp_clicks) and of each sponsored ads product side by side
-- source: amazon-marketing-cloud/datasources/dsp_clicks.md; amc-sql/basics.md (UNION ALL)
SELECT 'dsp' AS channel, campaign, SUM(clicks) AS clicks, COUNT(DISTINCT user_id) AS clickers
FROM dsp_clicks
GROUP BY campaign
UNION ALL
SELECT ad_product_type AS channel, campaign, SUM(clicks) AS clicks, COUNT(DISTINCT user_id) AS clickers
FROM sponsored_ads_traffic
WHERE clicks > 0
GROUP BY ad_product_type, campaign
