-- analysis: sponsored ads performance by placement: impressions, clicks, CTR and spend per ad product and placement
-- source: amazon-marketing-cloud/datasources/sponsored_ads_traffic.md (placement_type)
SELECT
  ad_product_type,
  placement_type,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr,
  SUM(spend) / 100000000 AS spend
FROM sponsored_ads_traffic
GROUP BY ad_product_type, placement_type
