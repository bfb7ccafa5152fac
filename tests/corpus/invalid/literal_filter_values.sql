-- rule: literal_filter
-- at: 8:67
-- message: Column 'postal_code'
-- message: aggregation threshold HIGH
-- A VALUES list of postal codes joined on the impressions.
SELECT d.campaign, SUM(d.impressions) AS impressions
FROM dsp_impressions d
JOIN (VALUES ('98101'), ('98102'), ('98104')) AS v (pc) ON v.pc = d.postal_code
GROUP BY d.campaign
