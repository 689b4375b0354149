-- Party organisation per grid of an area (:prefix '' = the whole city): the grid's branch, its
-- building Party groups and central households (counts only: no person); with :with_geom the
-- grid's outline as GeoJSON text.
SELECT g.code, g.name, g.community_code, br.id AS branch_id, br.name AS branch,
       (SELECT count(*) FROM party_group pg JOIN building b ON b.id = pg.building_id
        WHERE b.grid_code = g.code) AS groups,
       (SELECT count(*) FROM party_household h JOIN building b ON b.id = h.building_id
        WHERE b.grid_code = g.code) AS households,
       CASE WHEN :with_geom THEN ST_AsGeoJSON(g.geom, 6) END AS geometry
FROM grid g
LEFT JOIN party_branch_grid bg ON bg.grid_code = g.code
LEFT JOIN party_branch br ON br.id = bg.branch_id
WHERE :prefix = '' OR g.code LIKE :prefix || '%'
ORDER BY g.code
