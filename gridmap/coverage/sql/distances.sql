-- Histogram of the walking distances of a run's buildings within :area (a code prefix, '' =
-- all): :bins bins of :bin_m metres (the last one open),
-- and bin -1 for buildings with no facility within reach (beyond the stored limit or
-- unreachable). Every bin is returned, empty ones with zeros.
WITH b AS (
  SELECT CASE WHEN cb.distance_m IS NULL THEN -1
              ELSE least(floor(cb.distance_m / CAST(:bin_m AS float8))::int, CAST(:bins AS int) - 1)
         END AS bin,
         bl.residents, bl.aged_60_plus
  FROM coverage_building cb JOIN building bl ON bl.id = cb.building_id
  WHERE cb.run_id = :run AND starts_with(bl.grid_code, :area)
), counts AS (
  SELECT bin, count(*) AS buildings, sum(residents) AS residents, sum(aged_60_plus) AS elderly
  FROM b GROUP BY bin
)
SELECT s.bin,
       CASE WHEN s.bin >= 0 THEN s.bin * CAST(:bin_m AS float8) END AS from_m,
       CASE WHEN s.bin >= 0 AND s.bin < CAST(:bins AS int) - 1
            THEN (s.bin + 1) * CAST(:bin_m AS float8) END AS to_m,
       coalesce(c.buildings, 0)::bigint AS buildings, coalesce(c.residents, 0)::bigint AS residents,
       coalesce(c.elderly, 0)::bigint AS elderly
FROM generate_series(-1, CAST(:bins AS int) - 1) AS s(bin)
LEFT JOIN counts c ON c.bin = s.bin
ORDER BY s.bin < 0, s.bin
