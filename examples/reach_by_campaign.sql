-- Reach, impressions and spend by campaign (DSP).
-- amc-magic run examples/reach_by_campaign.sql --instance sandbox --start 2026-03-01 --end 2026-03-31
SELECT
    advertiser,
    campaign,
    COUNT(DISTINCT user_id) AS reach,
    SUM(impressions) AS impressions,
    SUM(total_cost) / 100000 AS spend
FROM dsp_impressions
GROUP BY advertiser, campaign
