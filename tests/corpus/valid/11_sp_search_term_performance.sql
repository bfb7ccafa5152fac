-- analysis: sponsored products search-term performance: impressions, clicks, spend, CTR and CPC per search term
-- source: amazon-marketing-cloud/datasources/sponsored_ads_traffic.md (customer_search_term, clicks, spend in microcents)
SELECT
  campaign,
  customer_search_term,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000 AS spend,
  SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr,
  (SUM(spend) / 100000000) / NULLIF(SUM(clicks), 0) AS cpc
FROM sponsored_ads_traffic
WHERE ad_product_type = 'sponsored_products' AND customer_search_term IS NOT NULL
GROUP BY campaign, customer_search_term
