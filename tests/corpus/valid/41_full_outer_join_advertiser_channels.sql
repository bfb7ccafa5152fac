-- analysis: DSP and sponsored ads reach and cost of each advertiser in one row (FULL OUTER JOIN of two aggregates)
-- source: amazon-marketing-cloud/amc-sql/basics.md (Full Outer Join)
WITH dsp AS (
  SELECT advertiser, COUNT(DISTINCT user_id) AS dsp_reach, SUM(total_cost) / 100000 AS dsp_cost
  FROM dsp_impressions
  GROUP BY advertiser
),
sa AS (
  SELECT advertiser, COUNT(DISTINCT user_id) AS sa_reach, SUM(spend) / 100000000 AS sa_spend
  FROM sponsored_ads_traffic
  GROUP BY advertiser
)
SELECT
  COALESCE(d.advertiser, s.advertiser) AS advertiser,
  d.dsp_reach AS dsp_reach,
  d.dsp_cost AS dsp_cost,
  s.sa_reach AS sa_reach,
  s.sa_spend AS sa_spend
FROM dsp d
FULL OUTER JOIN sa s ON d.advertiser = s.advertiser
