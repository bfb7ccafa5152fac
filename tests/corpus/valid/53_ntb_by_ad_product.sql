-- analysis: new-to-brand buyers and sales by ad product (DSP where ad_product_type is NULL)
-- source: amazon-marketing-cloud/datasources/overview.md (display conversions have a NULL ad_product_type); playbooks/CJA.md (NTB metrics)
SELECT
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  COUNT(DISTINCT IF(new_to_brand, user_id, NULL)) AS ntb_buyers,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(IF(ad_product_type IS NULL, new_to_brand_product_sales, new_to_brand_total_product_sales)) AS ntb_sales,
  SUM(IF(ad_product_type IS NULL, product_sales, total_product_sales)) AS sales
FROM amazon_attributed_events_by_traffic_time
WHERE IF(ad_product_type IS NULL, purchases, total_purchases) > 0
GROUP BY 1
