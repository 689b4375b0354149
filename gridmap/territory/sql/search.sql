-- Find territory units, streets, buildings and facilities by name (trigram-indexed ILIKE) or
-- code prefix, each with its real shape for the map to highlight.
-- :pattern is '%…%' with LIKE metacharacters escaped; :prefix is 'digits%' or NULL.
-- A street is every named edge of that name, merged into one (multi)line: people search for
-- "团结大路", not for one block of it. Its code is its name (streets have no code).
WITH hits AS (
  (SELECT 1 AS level, 'district' AS kind, d.code, d.name, '沈阳市' AS context, d.geom
     FROM district d WHERE d.name ILIKE :pattern OR d.code LIKE :prefix
     ORDER BY d.code LIMIT :limit)
  UNION ALL
  (SELECT 2, 'subdistrict', s.code, s.name, d.name, s.geom
     FROM subdistrict s JOIN district d ON d.code = s.district_code
    WHERE s.name ILIKE :pattern OR s.code LIKE :prefix ORDER BY s.code LIMIT :limit)
  UNION ALL
  (SELECT 3, 'community', c.code, c.name, d.name || ' / ' || s.name, c.geom
     FROM community c JOIN subdistrict s ON s.code = c.subdistrict_code
     JOIN district d ON d.code = s.district_code
    WHERE c.name ILIKE :pattern OR c.code LIKE :prefix ORDER BY c.code LIMIT :limit)
  UNION ALL
  (SELECT 4, 'grid', g.code, g.name, s.name || ' / ' || c.name, g.geom
     FROM grid g JOIN community c ON c.code = g.community_code
     JOIN subdistrict s ON s.code = c.subdistrict_code
    WHERE g.name ILIKE :pattern OR g.code LIKE :prefix ORDER BY g.code LIMIT :limit)
  UNION ALL
  (SELECT 5, 'street', st.name, st.name,
          coalesce((SELECT d.name FROM district d
                     WHERE ST_Intersects(d.geom, ST_PointOnSurface(st.geom)) LIMIT 1), ''),
          st.geom
     FROM (SELECT e.name, ST_LineMerge(ST_Collect(e.geom)) AS geom
             FROM street_edge e WHERE e.name <> '' AND e.name ILIKE :pattern
            GROUP BY e.name ORDER BY length(e.name), e.name LIMIT :limit) st)
  UNION ALL
  (SELECT 6, 'building', b.code, b.name, b.address, b.geom
     FROM building b WHERE b.name ILIKE :pattern OR b.code LIKE :prefix
     ORDER BY b.code LIMIT :limit)
  UNION ALL
  (SELECT 7, 'facility', f.code, f.name, t.name_zh, f.geom
     FROM facility f JOIN facility_type t ON t.code = f.type
    WHERE f.name ILIKE :pattern OR f.code LIKE :prefix ORDER BY f.code LIMIT :limit)
), ranked AS (
  SELECT * FROM hits
  ORDER BY (name = :exact) DESC, level, length(name), code
  LIMIT :limit
)
-- Shapes simplified to about 1/1000 of their extent (invisible at the zoom that fits them),
-- so a district's outline stays a few kB.
SELECT kind, code, name, context,
       ST_XMin(geom) AS minx, ST_YMin(geom) AS miny, ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy,
       ST_AsGeoJSON(
         CASE WHEN GeometryType(geom) IN ('POINT', 'MULTIPOINT') THEN geom
              ELSE ST_SimplifyPreserveTopology(
                     geom, greatest(ST_XMax(geom) - ST_XMin(geom), ST_YMax(geom) - ST_YMin(geom))
                           / 1000)
         END, 6)::json AS geometry
FROM ranked
ORDER BY (name = :exact) DESC, level, length(name), code
