-- Residents and elderly per area code (the first :width digits of the grid code) over every
-- building but :leave_out, covered as the stored run :run says. What-if recomputes the buildings
-- it leaves out; the coverage of every other one cannot change, so it is read from the run.
-- Only buildings within :area (a code prefix, '' = all) count.
SELECT left(b.grid_code, :width) AS code,
       coalesce(sum(b.residents), 0) AS residents,
       coalesce(sum(b.aged_60_plus), 0) AS elderly,
       coalesce(sum(b.residents) FILTER (WHERE cb.covered), 0) AS residents_covered,
       coalesce(sum(b.aged_60_plus) FILTER (WHERE cb.covered), 0) AS elderly_covered
  FROM building b
  LEFT JOIN coverage_building cb ON cb.run_id = :run AND cb.building_id = b.id
 WHERE b.id <> ALL(CAST(:leave_out AS bigint[])) AND starts_with(b.grid_code, :area)
 GROUP BY 1
 ORDER BY 1
