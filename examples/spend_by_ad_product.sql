-- Sponsored ads spend and clicks by ad product, for the ad products given with --param.
-- amc-magic run examples/spend_by_ad_product.sql --instance sandbox --window previous_month \
--     --param 'products=["sponsored_products", "sponsored_brands"]'
SELECT
    ad_product_type,
    SUM(impressions) AS impressions,
    SUM(clicks) AS clicks,
    SUM(spend) / 100000000 AS spend
FROM sponsored_ads_traffic
WHERE ad_product_type IN ({{products}})
GROUP BY ad_product_type
