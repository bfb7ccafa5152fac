-- New-to-brand purchases and sales of each campaign (after AMC's instructional query "New-to-brand
-- analysis"); DSP conversions have no ad_product_type.
SELECT
  campaign,
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  SUM(total_purchases) AS purchases,
  SUM(new_to_brand_total_purchases) AS ntb_purchases,
  SUM(total_product_sales) AS product_sales,
  SUM(new_to_brand_total_product_sales) AS ntb_product_sales,
  CAST(SUM(new_to_brand_total_purchases) AS DOUBLE) / NULLIF(SUM(total_purchases), 0) AS ntb_purchase_share
FROM amazon_attributed_events_by_conversion_time
GROUP BY 1, 2
HAVING SUM(total_purchases) >= {{min_purchases}}
