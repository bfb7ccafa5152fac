-- rule: literal_filter
-- at: 9:7
-- message: Column 'postal_code'
-- message: aggregation threshold HIGH
-- message: literal or parameter value
-- A parameter is a literal too.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE postal_code = CUSTOM_PARAMETER('zip')
GROUP BY campaign
