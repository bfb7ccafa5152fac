-- rule: very_high_output
-- at: 11:8
-- message: Column 'buyer' (from conversions.user_id)
-- message: aggregation threshold VERY_HIGH
-- The user id renamed in a CTE still reaches the output.
WITH buyers AS (
  SELECT user_id AS buyer, SUM(total_product_sales) AS sales
  FROM conversions
  GROUP BY user_id
)
SELECT buyer, MAX(sales) AS sales
FROM buyers
GROUP BY buyer
