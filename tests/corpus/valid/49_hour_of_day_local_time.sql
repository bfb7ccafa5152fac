-- analysis: DSP impressions and reach by hour of day in New York time (CONVERT_TIME_ZONE_FROM_UTC, EXTRACT)
-- source: amazon-marketing-cloud/amc-sql/functions.md (CONVERT_TIME_ZONE_FROM_UTC, EXTRACT); amc-sql/examples.md (Impressions aggregated on the hour)
SELECT
  EXTRACT(HOUR FROM CONVERT_TIME_ZONE_FROM_UTC(impression_dt_utc, 'America/New_York')) AS local_hour,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY 1
