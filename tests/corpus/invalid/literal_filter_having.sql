-- rule: literal_filter
-- at: 9:8
-- message: Column 'city_name'
-- message: aggregation threshold HIGH
-- Grouped by city, then filtered to one city in HAVING.
SELECT city_name, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY city_name
HAVING city_name LIKE 'San%'
