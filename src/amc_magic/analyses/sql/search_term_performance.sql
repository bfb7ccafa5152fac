-- Performance of each customer search term of sponsored ads campaigns (after AMC's instructional query
-- "Sponsored Products search term performance").
SELECT
  campaign,
  customer_search_term,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000 AS spend,
  CAST(SUM(clicks) AS DOUBLE) / NULLIF(SUM(impressions), 0) AS ctr,
  (SUM(spend) / 100000000) / NULLIF(SUM(clicks), 0) AS cpc
FROM sponsored_ads_traffic
WHERE ad_product_type = {{ad_product}} AND customer_search_term IS NOT NULL
GROUP BY campaign, customer_search_term
HAVING SUM(clicks) >= {{min_clicks}}
