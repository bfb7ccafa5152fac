-- analysis: share of sponsored ads clickers of each campaign who then bought (click-to-purchase rate)
-- source: amazon-marketing-cloud/datasources/amazon_attributed_events_by_traffic_time.md; playbooks/off-amazon-conversions.md (users joined on user_id)
WITH clickers AS (
  SELECT campaign, user_id
  FROM sponsored_ads_traffic
  WHERE clicks > 0
  GROUP BY campaign, user_id
),
buyers AS (
  SELECT campaign, user_id, SUM(purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE purchases > 0 AND traffic_event_subtype = 'AD_CLICK'
  GROUP BY campaign, user_id
)
SELECT
  c.campaign AS campaign,
  COUNT(DISTINCT c.user_id) AS clickers,
  COUNT(DISTINCT b.user_id) AS buyers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT c.user_id) AS click_to_purchase_rate
FROM clickers c
LEFT JOIN buyers b ON b.campaign = c.campaign AND b.user_id = c.user_id
GROUP BY c.campaign
