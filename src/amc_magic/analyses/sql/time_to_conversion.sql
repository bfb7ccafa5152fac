-- How long after the attributed ad event buyers purchase, per ad product (after AMC's instructional
-- query "Time to conversion", with SECONDS_BETWEEN); DSP conversions have no ad_product_type.
SELECT
  COALESCE(ad_product_type, 'dsp') AS ad_product,
  COUNT(DISTINCT user_id) AS buyers,
  SUM(total_purchases) AS purchases,
  AVG(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc)) / 3600 AS avg_hours_to_conversion,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) < 86400, total_purchases, 0))
    AS purchases_within_1d,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) < 3 * 86400, total_purchases, 0))
    AS purchases_within_3d,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) < 7 * 86400, total_purchases, 0))
    AS purchases_within_7d
FROM amazon_attributed_events_by_conversion_time
WHERE total_purchases > 0
  AND SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) < {{max_days}} * 86400
GROUP BY 1
