-- analysis: users by the set of sponsored ads products that reached them, and whether SP was among them (COLLECT, ARRAY_CONTAINS, CARDINALITY)
-- source: amazon-marketing-cloud/amc-sql/functions.md (COLLECT DISTINCT, ARRAY_CONTAINS, CARDINALITY)
WITH products_per_user AS (
  SELECT user_id, COLLECT(DISTINCT ad_product_type) AS products
  FROM sponsored_ads_traffic
  GROUP BY user_id
)
SELECT
  CARDINALITY(products) AS product_count,
  ARRAY_CONTAINS(products, 'sponsored_products') AS saw_sponsored_products,
  COUNT(DISTINCT user_id) AS users
FROM products_per_user
GROUP BY 1, 2
