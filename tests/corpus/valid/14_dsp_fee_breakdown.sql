-- analysis: DSP cost components per advertiser: supply cost, platform, audience and third-party fees, in currency
-- source: amazon-marketing-cloud/datasources/dsp_impressions.md (supply_cost, platform_fee, audience_fee, third_party_fees)
SELECT
  advertiser,
  SUM(supply_cost) / 100000 AS supply_cost,
  SUM(platform_fee) / 100000 AS platform_fee,
  SUM(audience_fee) / 100000 AS audience_fee,
  SUM(third_party_fees) / 100000 AS third_party_fees,
  SUM(total_cost) / 100000 AS total_cost
FROM dsp_impressions
GROUP BY advertiser
