-- analysis: sponsored ads spend, clicks and CPC per ad product and campaign (spend is in microcents: divide by 1e8)
-- source: amazon-marketing-cloud/datasources/sponsored_ads_traffic.md (spend); playbooks/optimal-frequency-analysis.md (spend/100000000)
SELECT
  ad_product_type,
  campaign,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(spend) / 1e8 AS spend,
  (SUM(spend) / 1e8) / NULLIF(SUM(clicks), 0) AS cpc
FROM sponsored_ads_traffic
GROUP BY ad_product_type, campaign
