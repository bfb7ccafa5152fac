-- analysis: daily conversions and converting users by event subtype (page views, add to cart, orders)
-- source: amazon-marketing-cloud/datasources/conversions.md (event_date_utc, event_subtype, conversions)
SELECT
  event_date_utc,
  event_subtype,
  SUM(conversions) AS conversions,
  COUNT(DISTINCT user_id) AS users,
  COUNT(DISTINCT conversion_id) AS conversion_ids
FROM conversions
GROUP BY event_date_utc, event_subtype
