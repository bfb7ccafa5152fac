-- Users reached by both campaigns of each pair of DSP campaigns (after AMC's instructional query
-- "Campaign overlap": users per campaign, then a self-join on the user).
WITH exposed AS (
  SELECT
    campaign,
    user_id,
    SUM(impressions) AS impressions
  FROM dsp_impressions
  WHERE campaign IN ({{campaigns}})
  GROUP BY campaign, user_id
)
SELECT
  a.campaign AS campaign_a,
  b.campaign AS campaign_b,
  COUNT(DISTINCT a.user_id) AS overlap_users,
  SUM(a.impressions) AS impressions_a,
  SUM(b.impressions) AS impressions_b
FROM exposed a
JOIN exposed b ON a.user_id = b.user_id AND a.campaign < b.campaign
GROUP BY a.campaign, b.campaign
