-- Grids covering a point or within :radius metres of it, nearest first (a covering grid is 0 m).
-- The && pre-filter (:radius / 70,000 degrees is wider than :radius metres at Shenyang's
-- latitude) lets the GiST index answer before the exact geography test.
SELECT g.code, g.name, c.name AS community_name,
       ST_Covers(g.geom, p.pt) AS covers,
       ST_Distance(g.geom::geography, p.pt::geography) AS distance_m
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) p,
     grid g JOIN community c ON c.code = g.community_code
WHERE g.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :radius / 70000.0)
  AND ST_DWithin(g.geom::geography, p.pt::geography, :radius)
ORDER BY distance_m, g.code
