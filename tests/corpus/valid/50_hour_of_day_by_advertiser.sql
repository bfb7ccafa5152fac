-- analysis: impressions of each advertiser by UTC hour of day (impression_hour_utc)
-- source: amazon-marketing-cloud/amc-sql/examples.md (Impressions aggregated on the hour); datasources/dsp_impressions.md
SELECT
  advertiser,
  impression_hour_utc,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY advertiser, impression_hour_utc
