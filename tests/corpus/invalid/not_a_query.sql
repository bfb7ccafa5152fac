-- rule: not_a_query
-- at: 4:1
-- message: Only SELECT queries
CREATE TABLE campaign_reach AS
SELECT campaign, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
GROUP BY campaign
