-- rule: unknown_table
-- at: 6:6
-- message: Object 'dsp_impression' not found
-- message: Did you mean 'dsp_impressions'?
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impression
GROUP BY campaign
