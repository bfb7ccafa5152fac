-- rule: unknown_alias
-- at: 4:24
-- message: Table 'x' not found
SELECT i.campaign, SUM(x.impressions) AS impressions
FROM dsp_impressions i
GROUP BY i.campaign
