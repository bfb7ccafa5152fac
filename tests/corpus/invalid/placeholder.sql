-- rule: placeholder
-- at: 6:19
-- message: Placeholder {{campaign_name}} was not rendered
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign = '{{campaign_name}}'
GROUP BY campaign
