-- Area polygons of one level of a run with their coverage rates, as GeoJSON Feature texts,
-- within a WGS84 envelope (simplified by :tol degrees when it is positive).
WITH a AS (
  SELECT a.code, coalesce(g.name, c.name, s.name, d.name) AS name,
         coalesce(g.geom::geometry, c.geom::geometry, s.geom::geometry, d.geom::geometry) AS geom,
         a.buildings, a.residents, a.residents_covered, a.elderly, a.elderly_covered,
         a.residents_covered::float / nullif(a.residents, 0) AS residents_rate,
         a.elderly_covered::float / nullif(a.elderly, 0) AS elderly_rate
  FROM coverage_area a
  LEFT JOIN grid g ON a.level = 'grid' AND g.code = a.code
  LEFT JOIN community c ON a.level = 'community' AND c.code = a.code
  LEFT JOIN subdistrict s ON a.level = 'subdistrict' AND s.code = a.code
  LEFT JOIN district d ON a.level = 'district' AND d.code = a.code
  WHERE a.run_id = :run AND a.level = :level AND starts_with(a.code, :parent)
)
SELECT json_build_object(
         'type', 'Feature', 'id', code,
         'geometry', ST_AsGeoJSON(
            CASE WHEN CAST(:tol AS float8) > 0
                 THEN ST_SimplifyPreserveTopology(geom, CAST(:tol AS float8)) ELSE geom END,
            CAST(:decimals AS int))::json,
         'properties', json_build_object(
            'code', code, 'name', name, 'buildings', buildings, 'residents', residents,
            'residents_covered', residents_covered, 'elderly', elderly,
            'elderly_covered', elderly_covered, 'elderly_uncovered', elderly - elderly_covered,
            'residents_rate', residents_rate, 'elderly_rate', elderly_rate))::text
FROM a
WHERE geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)
ORDER BY code
