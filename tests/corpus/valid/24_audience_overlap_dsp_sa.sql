-- analysis: audience overlap across DSP and sponsored ads: users reached by DSP only, sponsored ads only, or both
-- source: amazon-marketing-cloud/playbooks/enhanced_scoring_for_overlapping_audiences.md; amc-sql/basics.md (FULL OUTER JOIN)
WITH dsp AS (
  SELECT user_id, SUM(impressions) AS dsp_impressions
  FROM dsp_impressions
  GROUP BY user_id
),
sa AS (
  SELECT user_id, SUM(impressions) AS sa_impressions
  FROM sponsored_ads_traffic
  GROUP BY user_id
),
users AS (
  SELECT
    COALESCE(d.user_id, s.user_id) AS user_id,
    CASE
      WHEN d.user_id IS NOT NULL AND s.user_id IS NOT NULL THEN 'both'
      WHEN d.user_id IS NOT NULL THEN 'dsp_only'
      ELSE 'sponsored_ads_only'
    END AS exposure,
    COALESCE(d.dsp_impressions, 0) AS dsp_impressions,
    COALESCE(s.sa_impressions, 0) AS sa_impressions
  FROM dsp d
  FULL OUTER JOIN sa s ON d.user_id = s.user_id
)
SELECT
  exposure,
  COUNT(DISTINCT user_id) AS users,
  SUM(dsp_impressions) AS dsp_impressions,
  SUM(sa_impressions) AS sa_impressions
FROM users
GROUP BY exposure
