-- analysis: buyers and sales of each tracked ASIN split by whether the purchase was new to brand
-- source: amazon-marketing-cloud/datasources/conversions.md (event_subtype, new_to_brand, total_product_sales)
SELECT
  tracked_asin,
  new_to_brand,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(conversions) AS orders,
  SUM(total_product_sales) AS sales,
  SUM(total_units_sold) AS units
FROM conversions
WHERE event_subtype = 'order'
GROUP BY tracked_asin, new_to_brand
