-- rule: literal_filter
-- at: 13:7
-- message: Column 'city' (from dsp_clicks.city_name)
-- message: aggregation threshold HIGH
-- A CTE passes city_name on under another name; the filter comes outside.
WITH clicks_by_city AS (
  SELECT city_name AS city, campaign, SUM(clicks) AS clicks
  FROM dsp_clicks
  GROUP BY city_name, campaign
)
SELECT campaign, SUM(clicks) AS clicks
FROM clicks_by_city
WHERE city = 'Austin'
GROUP BY campaign
