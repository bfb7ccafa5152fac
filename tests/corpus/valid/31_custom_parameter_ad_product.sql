-- analysis: spend and clicks by campaign for one ad product chosen by a STRING parameter
-- source: amazon-marketing-cloud/reporting/create-workflow.md (STRING input parameter, parameterValues)
-- params: {"ad_product": "sponsored_products"}
SELECT
  campaign,
  ad_group,
  SUM(clicks) AS clicks,
  SUM(spend) / 100000000 AS spend
FROM sponsored_ads_traffic
WHERE ad_product_type = CUSTOM_PARAMETER('ad_product')
GROUP BY campaign, ad_group
