-- analysis: DSP reach, impressions and cost for mobile, TV and desktop device groups (CONTAINED_IN)
-- source: amazon-marketing-cloud/amc-sql/expressions.md (CONTAINED_IN)
SELECT
  CASE
    WHEN CONTAINED_IN(device_type, 'Phone', 'Tablet') THEN 'mobile'
    WHEN CONTAINED_IN(device_type, 'TV') THEN 'tv'
    ELSE 'desktop_and_other'
  END AS device_group,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000 AS cost
FROM dsp_impressions
GROUP BY 1
