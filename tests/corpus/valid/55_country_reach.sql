-- analysis: DSP reach and impressions per country and state
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (iso_country_code, iso_state_province_code)
SELECT
  iso_country_code,
  iso_state_province_code,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY iso_country_code, iso_state_province_code
