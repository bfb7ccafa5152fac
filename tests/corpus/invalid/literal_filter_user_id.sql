-- rule: literal_filter
-- at: 11:31
-- message: Column 'user_id'
-- message: aggregation threshold VERY_HIGH
-- Looking up one user through a CTE of literals.
WITH watched AS (
  SELECT 'a1b2c3' AS user_id
)
SELECT c.event_type, COUNT(DISTINCT c.user_id) AS users
FROM conversions c
JOIN watched w ON w.user_id = c.user_id
GROUP BY c.event_type
