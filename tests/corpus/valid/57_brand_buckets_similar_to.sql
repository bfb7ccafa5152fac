-- analysis: impressions of one brand's campaigns against all others (SIMILAR TO with a regular expression)
-- source: amazon-marketing-cloud/amc-sql/examples.md (Aggregation by Brand)
SELECT
  advertiser,
  IF(campaign SIMILAR TO '^Northwind.*', 'NORTHWIND', 'BRAND_OTHER') AS brand,
  SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY advertiser, brand
