-- Street edges touching a WGS84 envelope (the catchment view plus the walking limit).
SELECT source, target, length_m, ST_AsBinary(geom)
FROM street_edge
WHERE geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)
