-- rule: order_by
-- at: 8:1
-- message: ORDER BY
-- Sorting the final result is not allowed outside OVER (...).
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
ORDER BY impressions DESC
