-- Residents and elderly (60+) covered per grid, community, sub-district and district for one
-- run. Codes nest, so each level is a prefix of the grid code; the levels and their code widths
-- come from gridmap.codes as :levels and :widths.
WITH b AS (
  SELECT bl.grid_code, bl.residents, bl.aged_60_plus, cb.covered
  FROM coverage_building cb JOIN building bl ON bl.id = cb.building_id
  WHERE cb.run_id = :run
), levels(level, width) AS (
  SELECT * FROM unnest(CAST(:levels AS text[]), CAST(:widths AS int[]))
)
INSERT INTO coverage_area (run_id, level, code, buildings, buildings_covered, residents,
                           residents_covered, elderly, elderly_covered)
SELECT :run, l.level, left(b.grid_code, l.width),
       count(*), count(*) FILTER (WHERE b.covered),
       sum(b.residents), coalesce(sum(b.residents) FILTER (WHERE b.covered), 0),
       sum(b.aged_60_plus), coalesce(sum(b.aged_60_plus) FILTER (WHERE b.covered), 0)
FROM b CROSS JOIN levels l
GROUP BY l.level, left(b.grid_code, l.width)
