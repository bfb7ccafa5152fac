-- analysis: purchases of each campaign within 1, 7 and 14 days of the ad event (custom attribution intervals)
-- source: amazon-marketing-cloud/datasources/overview.md (Arbitrary Attribution Intervals: SUM(IF(SECONDS_BETWEEN(...) <= ...)))
SELECT
  campaign,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 60 * 60 * 24, total_purchases, 0)) AS purchases_1d,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 60 * 60 * 24 * 7, total_purchases, 0)) AS purchases_7d,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 60 * 60 * 24 * 14, total_purchases, 0)) AS purchases_14d
FROM amazon_attributed_events_by_traffic_time
GROUP BY campaign
