-- analysis: sales and purchases driven by each shopper search term of sponsored products and brands
-- source: amazon-marketing-cloud/playbooks/keyword-clustering.md (aggregate performance-based KPI purchase)
WITH ad_products (ad_product_type) AS (
  VALUES ('sponsored_products'), ('sponsored_brands')
)
SELECT
  customer_search_term,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(purchases) AS purchases,
  SUM(product_sales) AS product_sales,
  SUM(units_sold) AS units_sold
FROM amazon_attributed_events_by_conversion_time
WHERE ad_product_type IN (SELECT ad_product_type FROM ad_products)
  AND customer_search_term IS NOT NULL
GROUP BY customer_search_term
