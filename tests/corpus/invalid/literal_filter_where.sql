-- rule: literal_filter
-- at: 9:7
-- message: Column 'postal_code'
-- message: aggregation threshold HIGH
-- message: cannot be compared with a literal or parameter value
-- Reach in two postal codes.
SELECT campaign, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
WHERE postal_code IN ('98101', '98102')
GROUP BY campaign
