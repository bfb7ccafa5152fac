-- rule: limit
-- at: 8:1
-- message: LIMIT
-- Top campaigns by reach, cut with LIMIT instead of RANK().
SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
LIMIT 10
