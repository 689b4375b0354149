-- Footprints of the given buildings as WGS84 GeoJSON geometries (6 decimals, ~0.1 m), with
-- their name and grid: what a what-if redraws. The caller bounds the ids.
SELECT b.id, b.name, b.grid_code, ST_AsGeoJSON(b.geom, 6) AS geometry
FROM building b
WHERE b.id = ANY(CAST(:ids AS bigint[]))
ORDER BY b.id
