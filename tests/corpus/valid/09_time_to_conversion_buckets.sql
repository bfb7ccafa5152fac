-- analysis: time to conversion buckets: attributed purchases by days between the ad event and the purchase
-- source: amazon-marketing-cloud/datasources/overview.md (SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc))
-- may-be-empty
SELECT
  CASE
    WHEN SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 60 * 60 * 24 THEN '0-1d'
    WHEN SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 60 * 60 * 24 * 7 THEN '1-7d'
    ELSE '7-14d'
  END AS days_to_conversion,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(total_purchases) AS purchases,
  SUM(total_product_sales) AS sales
FROM amazon_attributed_events_by_conversion_time
WHERE total_purchases > 0
GROUP BY 1
