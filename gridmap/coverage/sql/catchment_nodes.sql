-- The street nodes that the edges touching a WGS84 envelope start or end at.
WITH e AS (
  SELECT source, target FROM street_edge
  WHERE geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)
)
SELECT n.id, ST_AsBinary(n.geom)
FROM street_node n
WHERE n.id IN (SELECT source FROM e UNION SELECT target FROM e)
