-- Facilities of one type inside a WGS84 envelope.
SELECT id, ST_AsBinary(geom)
FROM facility
WHERE type = :t AND geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)
ORDER BY id
