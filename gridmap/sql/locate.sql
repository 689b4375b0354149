-- Locate a WGS84 point and answer with the whole JSON document, built in PostgreSQL: the grid
-- that covers it (lowest code wins on a shared boundary, so the answer is deterministic), its
-- community, sub-district and district, the grid's nearest building, the grid worker and the
-- departments enrolled in the grid. The point is written out (not a CTE) so the planner sees a
-- constant and uses the GiST index. Returns no row outside every grid.
WITH hit AS (
  SELECT grid.code, grid.name, grid.community_code
  FROM grid
  WHERE ST_Covers(grid.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
  ORDER BY grid.code
  LIMIT 1
), near AS (
  -- The nearest building of the grid that owns the point (its case lands in this grid):
  -- a grid holds a handful of buildings, found by index, measured exactly in metres.
  SELECT b.code, b.name, b.address,
         ST_Distance(b.geom::geography,
                     ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
  FROM building b JOIN hit ON b.grid_code = hit.code
  ORDER BY distance_m, b.code
  LIMIT 1
)
SELECT json_build_object(
  'query', json_build_object('crs', CAST(:crs AS text),
                             'wgs84', json_build_array(round(CAST(:lon AS numeric), 7),
                                                       round(CAST(:lat AS numeric), 7))),
  'grid', json_build_object('code', hit.code, 'name', hit.name),
  'community', json_build_object('code', c.code, 'name', c.name),
  'subdistrict', json_build_object('code', s.code, 'name', s.name),
  'district', json_build_object('code', d.code, 'name', d.name),
  'building', (SELECT json_build_object('code', near.code, 'name', near.name,
                                        'address', near.address,
                                        'distance_m', round(near.distance_m::numeric, 1))
                 FROM near),
  'grid_worker', (SELECT json_build_object('name', pe.name, 'phone', pe.phone)
                    FROM grid_member m JOIN person pe ON pe.id = m.person_id
                   WHERE m.grid_code = hit.code AND m.role = 'grid_worker'),
  'departments', (SELECT coalesce(json_agg(json_build_object(
                           'code', dp.code,
                           'name', CASE WHEN :lang = 'en' THEN dp.name_en ELSE dp.name_zh END,
                           'staff', pe.name) ORDER BY dp.sort_order), '[]'::json)
                    FROM grid_enrollment e
                    JOIN department dp ON dp.code = e.department_code
                    JOIN person pe ON pe.id = e.person_id
                   WHERE e.grid_code = hit.code)
)::text AS body
FROM hit
JOIN community c ON c.code = hit.community_code
JOIN subdistrict s ON s.code = c.subdistrict_code
JOIN district d ON d.code = s.district_code
