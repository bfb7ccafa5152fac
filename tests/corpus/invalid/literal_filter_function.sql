-- rule: literal_filter
-- at: 8:18
-- message: Column 'city_name'
-- message: aggregation threshold HIGH
-- A function over the column does not hide the comparison.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE UPPER(TRIM(city_name)) = 'SEATTLE'
GROUP BY campaign
