-- rule: literal_filter
-- at: 11:7
-- message: Column 'postal_code'
-- message: aggregation threshold HIGH
-- IN (SELECT ...) over a CTE that holds only literals.
WITH target_zips AS (
  SELECT zip FROM (VALUES ('10001'), ('10002')) AS z (zip)
)
SELECT campaign, COUNT(DISTINCT user_id) AS reach
FROM dsp_clicks
WHERE postal_code IN (SELECT zip FROM target_zips)
GROUP BY campaign
