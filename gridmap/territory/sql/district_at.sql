-- Which district (if any) covers a point: used to explain a point that falls in no grid.
SELECT d.code, d.name
FROM district d
WHERE d.geom && ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
  AND ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY d.code
LIMIT 1
