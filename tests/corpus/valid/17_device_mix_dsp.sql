-- analysis: device mix of DSP: reach and impressions per device type and each device's share of impressions
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (device_type); amc-sql/functions.md (window functions)
WITH by_device AS (
  SELECT
    device_type,
    COUNT(DISTINCT user_id) AS reach,
    SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY device_type
)
SELECT
  device_type,
  reach,
  impressions,
  impressions / SUM(impressions) OVER () AS impression_share
FROM by_device
