-- analysis: ROAS of each DSP campaign: attributed sales over DSP cost
-- source: amazon-marketing-cloud/playbooks/media_performance_optimization.md (cost and sales by campaign); datasources/dsp_impressions.md
WITH cost AS (
  SELECT campaign_id, campaign, SUM(impressions) AS impressions, SUM(total_cost) / 100000 AS cost
  FROM dsp_impressions
  GROUP BY campaign_id, campaign
),
sales AS (
  SELECT campaign_id, SUM(total_purchases) AS purchases, SUM(total_product_sales) AS sales
  FROM amazon_attributed_events_by_traffic_time
  WHERE ad_product_type IS NULL
  GROUP BY campaign_id
)
SELECT
  c.campaign AS campaign,
  c.impressions AS impressions,
  c.cost AS cost,
  COALESCE(s.purchases, 0) AS purchases,
  COALESCE(s.sales, 0) AS sales,
  COALESCE(s.sales, 0) / c.cost AS roas
FROM cost c
LEFT JOIN sales s ON s.campaign_id = c.campaign_id
