-- What reshaping grids would break, on the new boundaries (:codes, :wkbs in WGS84; a code not
-- yet a grid is a new one) with the grids :gone taken away: a grid leaving its community,
-- overlapping another grid of it, or a new gap (ground the changed grids covered that no grid
-- covers afterwards; gaps a community already had are its own), each by more than :tolerance_m2.
WITH proposed AS (
  SELECT c AS code, ST_SetSRID(ST_GeomFromWKB(w), 4326) AS geom
  FROM unnest(CAST(:codes AS text[]), CAST(:wkbs AS bytea[])) AS p(c, w)
), future AS (
  SELECT g.code, g.community_code, coalesce(p.geom, g.geom) AS geom, p.code IS NOT NULL AS changed
  FROM grid g LEFT JOIN proposed p ON p.code = g.code
  WHERE g.community_code IN (SELECT left(code, 12) FROM proposed)
    AND g.code <> ALL(CAST(:gone AS text[]))
  UNION ALL
  SELECT p.code, left(p.code, 12), p.geom, true FROM proposed p
  WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = p.code)
), gaps AS (
  SELECT was.code, ST_Difference(was.geom, coalesce(now.geom, 'POLYGON EMPTY'::geometry)) AS geom
  FROM (SELECT g.community_code, min(g.code) AS code, ST_Union(g.geom) AS geom FROM grid g
        WHERE g.code IN (SELECT code FROM proposed) OR g.code = ANY(CAST(:gone AS text[]))
        GROUP BY g.community_code) was
  LEFT JOIN (SELECT community_code, ST_Union(geom) AS geom FROM future
             GROUP BY community_code) now ON now.community_code = was.community_code
)
SELECT * FROM (
SELECT f.code, 'grid_outside_community' AS problem, NULL AS other,
       ST_Area(ST_Difference(f.geom, c.geom)::geography) AS area_m2,
       ST_AsBinary(ST_Difference(f.geom, c.geom)) AS place
FROM future f JOIN community c ON c.code = f.community_code
WHERE f.changed AND NOT ST_CoveredBy(f.geom, ST_Buffer(c.geom, 1e-5))
  AND ST_Area(ST_Difference(f.geom, c.geom)::geography) > :tolerance_m2
UNION ALL
SELECT a.code, 'grids_overlap', b.code, ST_Area(ST_Intersection(a.geom, b.geom)::geography),
       ST_AsBinary(ST_Intersection(a.geom, b.geom))
FROM future a JOIN future b ON a.community_code = b.community_code AND a.code <> b.code
 AND (a.changed AND (NOT b.changed OR a.code < b.code))
 AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > :tolerance_m2
UNION ALL
SELECT code, 'grid_gap', NULL, ST_Area(geom::geography), ST_AsBinary(geom)
FROM gaps WHERE ST_Area(geom::geography) > :tolerance_m2
) found
ORDER BY code, problem = 'grid_gap', problem  -- a gap is named after what made it
