-- analysis: device mix across channels: impressions and reach per device type for DSP and sponsored ads
-- source: amazon-marketing-cloud/datasources/sponsored_ads_traffic.md (device_type); amc-sql/basics.md (UNION ALL)
SELECT 'dsp' AS channel, device_type, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY device_type
UNION ALL
SELECT 'sponsored_ads' AS channel, device_type, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM sponsored_ads_traffic
GROUP BY device_type
