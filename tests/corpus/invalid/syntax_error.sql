-- rule: syntax
-- at: 7:1
-- message: Encountered
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign = 'Spring Sale' AND
GROUP BY campaign
