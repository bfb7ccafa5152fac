-- rule: very_high_output
-- at: 7:8
-- message: Column 'user_id'
-- message: aggregation threshold VERY_HIGH
-- message: cannot be in the query output
-- Per-user impression counts: user_id must be counted, never output.
SELECT user_id, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY user_id
