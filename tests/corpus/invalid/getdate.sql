-- rule: unsupported_function
-- at: 7:27
-- message: GETDATE
-- The current time is not a function call in AMC SQL: use CAST('today' AS DATE) or CAST('now' AS TIMESTAMP).
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE impression_dt_utc < GETDATE()
GROUP BY campaign
