-- Land of a community the file covers that no grid will cover, where larger than :tolerance_m2
-- (each piece apart, with its area).
WITH future AS (
  SELECT left(code, 12) AS community_code, geom FROM import_stage WHERE geom IS NOT NULL
  UNION ALL
  SELECT g.community_code, g.geom FROM grid g
  WHERE g.community_code IN (SELECT DISTINCT left(code, 12) FROM import_stage)
    AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.code = g.code)
    AND NOT :replace
), pieces AS (
  SELECT c.code, (ST_Dump(ST_Difference(c.geom, ST_Union(f.geom)))).geom AS gap
  FROM community c JOIN future f ON f.community_code = c.code
  GROUP BY c.code, c.geom
)
SELECT code, ST_Area(gap::geography) AS area_m2, ST_AsBinary(gap) AS gap
FROM pieces
WHERE ST_Dimension(gap) = 2 AND ST_Area(gap::geography) > :tolerance_m2
ORDER BY code, area_m2 DESC
