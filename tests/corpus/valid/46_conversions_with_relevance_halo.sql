-- analysis: conversions of each advertiser by halo code and event subtype
-- source: amazon-marketing-cloud/datasources/conversions_with_relevance.md (halo_code, event_subtype)
SELECT
  advertiser,
  halo_code,
  event_subtype,
  SUM(conversions) AS conversions,
  COUNT(DISTINCT user_id) AS users
FROM conversions_with_relevance
GROUP BY advertiser, halo_code, event_subtype
