-- rule: ambiguous_column
-- at: 4:8
-- message: Column 'campaign' is ambiguous
SELECT campaign, COUNT(DISTINCT i.user_id) AS reach
FROM dsp_impressions i
JOIN dsp_clicks c ON i.user_id = c.user_id
GROUP BY campaign
