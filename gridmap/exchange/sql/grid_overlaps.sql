-- Overlaps of more than :tolerance_m2 between grids of one community as they will be: the staged
-- grids, and the loaded ones the import keeps (not in the file; with :replace, none of the
-- communities the file covers).
WITH kept AS (
  SELECT g.code, g.community_code, g.geom, NULL::integer AS row
  FROM grid g
  WHERE g.community_code IN (SELECT DISTINCT left(code, 12) FROM import_stage)
    AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.code = g.code)
    AND NOT :replace
), future AS (
  SELECT code, left(code, 12) AS community_code, geom, row FROM import_stage
  WHERE geom IS NOT NULL
  UNION ALL
  SELECT code, community_code, geom, row FROM kept
)
SELECT a.row, a.code, b.code AS other,
       ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area_m2,
       ST_AsBinary(ST_Intersection(a.geom, b.geom)) AS overlap
FROM future a
JOIN future b ON a.community_code = b.community_code AND a.code < b.code
 AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
WHERE (a.row IS NOT NULL OR b.row IS NOT NULL)
  AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > :tolerance_m2
ORDER BY a.row NULLS LAST, a.code, b.code
