-- Cases of the same category within :radius metres of a point, reported since :since, in one of
-- :states (the workflow's LINKABLE_STATES: a new report may still be linked into them).
SELECT c.id, c.description, c.state, c.created_at,
       round(ST_Distance(c.geom::geography, p.pt::geography)::numeric, 1) AS distance_m
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) p, "case" c
WHERE c.category = :category AND c.created_at >= :since
  AND c.state = ANY(:states)
  AND c.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :radius / 70000.0)
  AND ST_DWithin(c.geom::geography, p.pt::geography, :radius)
ORDER BY distance_m, c.id
LIMIT 10
