-- Building Party groups of an area, each a point on its building, with the leader's name and
-- the group's households (the service shows those only to staff whose scope holds the grid).
SELECT pg.id, pg.name, br.name AS branch, b.code AS building_code, b.name AS building_name,
       b.grid_code, p.name AS leader,
       (SELECT count(*) FROM party_household h WHERE h.group_id = pg.id) AS households,
       ST_X(pt.geom) AS lon, ST_Y(pt.geom) AS lat
FROM party_group pg
JOIN party_branch br ON br.id = pg.branch_id
JOIN building b ON b.id = pg.building_id
LEFT JOIN person p ON p.id = pg.leader_id
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS geom) pt
WHERE :prefix = '' OR b.grid_code LIKE :prefix || '%'
ORDER BY pg.id
