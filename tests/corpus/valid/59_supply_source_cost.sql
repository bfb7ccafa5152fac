-- analysis: DSP impressions, reach and eCPM per supply source
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (supply_source, total_cost)
SELECT
  supply_source,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach,
  ROUND(SUM(total_cost) / 100000 / SUM(impressions) * 1000, 2) AS ecpm
FROM dsp_impressions
GROUP BY supply_source
