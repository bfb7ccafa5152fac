-- rule: no_aggregation
-- at: 5:1
-- message: aggregates nothing
-- Campaign-level rows without any aggregate.
SELECT campaign, device_type, impressions
FROM dsp_impressions
WHERE impressions > 0
