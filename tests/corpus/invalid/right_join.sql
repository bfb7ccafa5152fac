-- rule: right_join
-- at: 7:1
-- message: RIGHT JOIN
-- Conversions with or without a DSP impression of the same user.
SELECT c.event_type, COUNT(DISTINCT c.user_id) AS users, SUM(i.impressions) AS impressions
FROM dsp_impressions i
RIGHT JOIN conversions c ON i.user_id = c.user_id
GROUP BY c.event_type
