-- analysis: sponsored products keyword targeting by match type: clicks, spend and CPC
-- source: amazon-marketing-cloud/datasources/sponsored_ads_traffic.md (targeting, match_type)
SELECT
  campaign,
  targeting,
  match_type,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000 AS spend,
  (SUM(spend) / 100000000) / NULLIF(SUM(clicks), 0) AS cpc
FROM sponsored_ads_traffic
WHERE ad_product_type = 'sponsored_products'
GROUP BY campaign, targeting, match_type
