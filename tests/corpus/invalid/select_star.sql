-- rule: select_star
-- at: 7:10
-- message: SELECT *
-- message: 'sponsored_ads_traffic'
-- A raw-row export dressed up as a CTE.
WITH traffic AS (
  SELECT * FROM sponsored_ads_traffic
)
SELECT ad_product_type, SUM(impressions) AS impressions
FROM traffic
GROUP BY ad_product_type
