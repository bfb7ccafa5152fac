-- analysis: new-to-brand purchases and sales of each campaign, and their share of all attributed purchases
-- source: amazon-marketing-cloud/datasources/amazon_attributed_events_by_conversion_time.md (new_to_brand_* metrics)
SELECT
  campaign,
  SUM(total_purchases) AS purchases,
  SUM(new_to_brand_total_purchases) AS ntb_purchases,
  SUM(new_to_brand_total_product_sales) AS ntb_product_sales,
  SUM(new_to_brand_total_purchases) / NULLIF(SUM(total_purchases), 0) AS ntb_purchase_share
FROM amazon_attributed_events_by_conversion_time
GROUP BY campaign
