-- analysis: ROAS and ACOS of each sponsored ads campaign: attributed sales against spend
-- source: amazon-marketing-cloud/datasources/overview.md (Sponsored Products Conversions and Traffic, UNION of traffic and conversions)
WITH traffic_and_conversions AS (
  SELECT ad_product_type, campaign, SUM(clicks) AS clicks, SUM(spend) / 100000000 AS spend, 0 AS sales, 0 AS purchases
  FROM sponsored_ads_traffic
  GROUP BY ad_product_type, campaign
  UNION ALL
  SELECT ad_product_type, campaign, 0 AS clicks, 0 AS spend, SUM(product_sales) AS sales, SUM(purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE ad_product_type IS NOT NULL
  GROUP BY ad_product_type, campaign
)
SELECT
  ad_product_type,
  campaign,
  SUM(clicks) AS clicks,
  SUM(spend) AS spend,
  SUM(purchases) AS purchases,
  SUM(sales) AS sales,
  SUM(sales) / NULLIF(SUM(spend), 0) AS roas,
  SUM(spend) / NULLIF(SUM(sales), 0) AS acos
FROM traffic_and_conversions
GROUP BY ad_product_type, campaign
