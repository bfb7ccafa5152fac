-- analysis: each campaign's share of its advertiser's DSP impressions and its rank there (PARTITION BY with ORDER BY inside OVER)
-- source: amazon-marketing-cloud/amc-sql/functions.md (PARTITION BY, DENSE_RANK)
WITH by_campaign AS (
  SELECT advertiser, campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach
  FROM dsp_impressions
  GROUP BY advertiser, campaign
)
SELECT
  advertiser,
  campaign,
  impressions,
  reach,
  impressions / SUM(impressions) OVER (PARTITION BY advertiser) AS share_of_advertiser,
  DENSE_RANK() OVER (PARTITION BY advertiser ORDER BY impressions DESC) AS rank_in_advertiser
FROM by_campaign
