-- rule: unknown_column
-- at: 5:22
-- message: Column 'impresions' not found
-- message: Did you mean 'impressions'?
SELECT campaign, SUM(impresions) AS impressions
FROM dsp_impressions
GROUP BY campaign
