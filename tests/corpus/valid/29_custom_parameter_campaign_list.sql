-- analysis: reach and cost of the campaigns listed in the campaigns parameter (ARRAY_CONTAINS on CUSTOM_PARAMETER)
-- source: amazon-marketing-cloud/reporting/create-workflow.md (inputParameters, parameterValues, CUSTOM_PARAMETER)
-- params: {"campaigns": ["Northwind - Always On Prospecting", "Lumen - Remarketing"]}
SELECT
  campaign,
  COUNT(DISTINCT user_id) AS reach,
  SUM(impressions) AS impressions,
  SUM(total_cost) / 100000 AS cost
FROM dsp_impressions
WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('campaigns'), campaign)
GROUP BY campaign
