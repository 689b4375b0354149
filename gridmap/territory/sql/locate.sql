-- Locate a WGS84 point and answer with the whole JSON document, assembled in PostgreSQL: the
-- grid that covers it (lowest code wins on a shared boundary, so the answer is deterministic),
-- its ready-made card (hierarchy, grid worker, enrolled departments: table grid_card, kept
-- current by triggers), the query echo and the grid's nearest building. The point is written
-- out (not a CTE) so the planner sees a constant and uses the GiST index. The card is a JSON
-- object, so the extra members are spliced in before its closing brace. No row outside every
-- grid.
WITH hit AS (
  SELECT grid.code
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
SELECT left(CASE WHEN :lang = 'en' THEN k.card_en ELSE k.card_zh END, -1)
       || ',"query":' || json_build_object(
            'crs', CAST(:crs AS text),
            'wgs84', json_build_array(round(CAST(:lon AS numeric), 7),
                                      round(CAST(:lat AS numeric), 7)))::text
       || ',"building":' || coalesce(
            (SELECT json_build_object('code', near.code, 'name', near.name,
                                      'address', near.address,
                                      'distance_m', round(near.distance_m::numeric, 1))::text
               FROM near),
            'null')
       || '}' AS body
FROM hit
JOIN grid_card k ON k.grid_code = hit.code
