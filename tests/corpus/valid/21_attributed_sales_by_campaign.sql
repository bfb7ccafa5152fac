-- analysis: attributed purchases, units and sales of each campaign, promoted products and brand halo
-- source: amazon-marketing-cloud/datasources/amazon_attributed_events_by_conversion_time.md
SELECT
  ad_product_type,
  campaign,
  SUM(purchases) AS purchases,
  SUM(units_sold) AS units_sold,
  SUM(product_sales) AS product_sales,
  SUM(total_purchases) AS total_purchases,
  SUM(total_product_sales) AS total_product_sales,
  SUM(brand_halo_product_sales) AS brand_halo_product_sales
FROM amazon_attributed_events_by_conversion_time
GROUP BY ad_product_type, campaign
