-- analysis: users per advertiser by exact frequency 1-9 and 10+, labelled with CONCAT like the doc example
-- source: amazon-marketing-cloud/amc-sql/examples.md (Impression user frequency counting)
SELECT
  advertiser_id,
  advertiser,
  IF(impressions < 10, CONCAT('frequency_', CAST(impressions AS STRING)), 'frequency_10+') AS frequency_buckets,
  COUNT(DISTINCT user_id) AS users_in_bucket
FROM (
  SELECT
    advertiser_id,
    advertiser,
    user_id,
    SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY advertiser_id, advertiser, user_id
)
GROUP BY advertiser_id, advertiser, frequency_buckets
