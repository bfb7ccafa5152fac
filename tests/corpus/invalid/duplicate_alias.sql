-- rule: duplicate_alias
-- at: 6:6
-- message: Duplicate relation name 'd'
SELECT d.campaign, COUNT(DISTINCT d.user_id) AS reach
FROM dsp_impressions d
JOIN dsp_clicks d ON d.user_id = d.user_id
GROUP BY d.campaign
