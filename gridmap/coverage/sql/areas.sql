-- Areas of one level of a run (optionally within a parent code), worst elderly coverage first:
-- lowest rate, then most uncovered elderly. Areas without elderly come last.
WITH a AS (
  SELECT a.code, coalesce(g.name, c.name, s.name, d.name) AS name,
         coalesce(g.geom::geometry, c.geom::geometry, s.geom::geometry, d.geom::geometry) AS geom,
         a.buildings, a.buildings_covered, a.residents, a.residents_covered,
         a.elderly, a.elderly_covered, a.elderly - a.elderly_covered AS elderly_uncovered,
         a.residents_covered::float / nullif(a.residents, 0) AS residents_rate,
         a.elderly_covered::float / nullif(a.elderly, 0) AS elderly_rate
  FROM coverage_area a
  LEFT JOIN grid g ON a.level = 'grid' AND g.code = a.code
  LEFT JOIN community c ON a.level = 'community' AND c.code = a.code
  LEFT JOIN subdistrict s ON a.level = 'subdistrict' AND s.code = a.code
  LEFT JOIN district d ON a.level = 'district' AND d.code = a.code
  WHERE a.run_id = :run AND a.level = :level AND starts_with(a.code, :parent)
)
SELECT code, name, buildings, buildings_covered, residents, residents_covered, elderly,
       elderly_covered, elderly_uncovered, residents_rate, elderly_rate,
       ST_XMin(geom) AS minx, ST_YMin(geom) AS miny, ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy
FROM a
ORDER BY elderly_rate ASC NULLS LAST, elderly_uncovered DESC, code
