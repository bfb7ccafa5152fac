-- analysis: time to conversion: average hours from the attributed ad event to the purchase, by ad product
-- source: amazon-marketing-cloud/datasources/overview.md (Arbitrary Attribution Intervals, SECONDS_BETWEEN)
SELECT
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(total_purchases) AS purchases,
  AVG(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc)) / 3600 AS avg_hours_to_conversion
FROM amazon_attributed_events_by_conversion_time
WHERE total_purchases > 0
GROUP BY 1
