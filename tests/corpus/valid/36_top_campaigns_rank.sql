-- analysis: the five DSP campaigns with the most impressions, ranked (RANK instead of LIMIT)
-- source: amazon-marketing-cloud/amc-sql/limitations.md (LIMIT: use RANK() OVER (ORDER BY ...)); amc-sql/functions.md (RANK)
WITH ranked AS (
  SELECT
    campaign,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    RANK() OVER (ORDER BY SUM(impressions) DESC) AS impression_rank
  FROM dsp_impressions
  GROUP BY campaign
)
SELECT campaign, impressions, reach, impression_rank
FROM ranked
WHERE impression_rank <= 5
