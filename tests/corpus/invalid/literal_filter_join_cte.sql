-- rule: literal_filter
-- at: 13:16
-- message: Column 'city_name'
-- message: aggregation threshold HIGH
-- A CTE of literals joined on a HIGH column is a literal filter.
WITH cities AS (
  SELECT 'Seattle' AS city
  UNION ALL
  SELECT 'Portland' AS city
)
SELECT d.campaign, COUNT(DISTINCT d.user_id) AS reach
FROM dsp_impressions d
JOIN cities ON d.city_name = cities.city
GROUP BY d.campaign
