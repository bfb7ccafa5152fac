-- rule: literal_filter
-- at: 7:22
-- message: Column 'city_name'
-- message: aggregation threshold HIGH
-- A CASE bucket keyed on one city.
SELECT campaign,
       SUM(CASE WHEN city_name = 'Seattle' THEN impressions ELSE 0 END) AS seattle_impressions,
       SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
