-- analysis: first-touch DSP campaign of each user (ROW_NUMBER over the user's impressions) and the reach it opened
-- source: amazon-marketing-cloud/amc-sql/functions.md (ROW_NUMBER, PARTITION BY ... ORDER BY); playbooks/CJA.md
WITH first_touch AS (
  SELECT
    user_id,
    campaign,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY impression_dt_utc) AS touch_order
  FROM dsp_impressions
)
SELECT
  campaign AS first_touch_campaign,
  COUNT(DISTINCT user_id) AS users_first_reached
FROM first_touch
WHERE touch_order = 1
GROUP BY campaign
