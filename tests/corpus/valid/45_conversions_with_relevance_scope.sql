-- analysis: purchases relevant to each campaign, split into promoted products and brand halo (engagement_scope)
-- source: amazon-marketing-cloud/datasources/conversions_with_relevance.md (engagement_scope, halo_code)
SELECT
  campaign,
  engagement_scope,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(conversions) AS conversions,
  SUM(total_product_sales) AS sales
FROM conversions_with_relevance
WHERE event_subtype = 'order'
GROUP BY campaign, engagement_scope
