-- Where proposed sites lie, for people to find them: the community holding each WGS84 point
-- (lowest code on a shared boundary) and the nearest named street, found by the index's KNN
-- order and measured on geography in metres. One row per point, in the order given.
SELECT p.i, c.code AS community_code, c.name AS community, s.name AS street,
       s.distance_m AS street_m
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, i)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS g) AS pt
LEFT JOIN LATERAL (
  SELECT community.code, community.name FROM community
  WHERE ST_Covers(community.geom, pt.g) ORDER BY community.code LIMIT 1
) AS c ON true
LEFT JOIN LATERAL (
  SELECT e.name, ST_Distance(e.geom::geography, pt.g::geography) AS distance_m
  FROM street_edge e WHERE e.name <> ''
  ORDER BY e.geom <-> pt.g LIMIT 1
) AS s ON true
ORDER BY p.i
