-- Staged grids that leave their community by more than :tolerance_m2 (the part outside).
SELECT s.row, s.code, ST_Area(ST_Difference(s.geom, c.geom)::geography) AS area_m2,
       ST_AsBinary(ST_Difference(s.geom, c.geom)) AS outside
FROM import_stage s
JOIN community c ON c.code = left(s.code, 12)
WHERE s.geom IS NOT NULL
  AND NOT ST_CoveredBy(s.geom, ST_Buffer(c.geom, 1e-5))
  AND ST_Area(ST_Difference(s.geom, c.geom)::geography) > :tolerance_m2
ORDER BY s.row
