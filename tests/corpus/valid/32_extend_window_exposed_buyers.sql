-- analysis: buyers in the window who saw each DSP campaign in the 14 days before buying (EXTEND_TIME_WINDOW)
-- source: amazon-marketing-cloud/amc-sql/limitations.md and amc-sql/functions.md (EXTEND_TIME_WINDOW)
WITH exposures AS (
  SELECT campaign, user_id, MIN(impression_dt_utc) AS first_seen
  FROM TABLE(EXTEND_TIME_WINDOW('dsp_impressions', 'P14D', 'P1D'))
  GROUP BY campaign, user_id
),
buyers AS (
  SELECT user_id, MIN(event_dt_utc) AS first_order
  FROM conversions
  WHERE event_subtype = 'order'
  GROUP BY user_id
)
SELECT
  e.campaign AS campaign,
  COUNT(DISTINCT b.user_id) AS exposed_buyers
FROM buyers b
JOIN exposures e ON e.user_id = b.user_id
WHERE e.first_seen <= b.first_order
  AND SECONDS_BETWEEN(e.first_seen, b.first_order) <= 60 * 60 * 24 * 14
GROUP BY e.campaign
