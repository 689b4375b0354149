-- Grid Party branches of an area as one feature each: the union of the current grids it serves,
-- with its groups and central households counted (no person).
SELECT br.id, br.name, br.community_code, array_agg(g.code ORDER BY g.code) AS grids,
       (SELECT count(*) FROM party_group pg WHERE pg.branch_id = br.id) AS groups,
       (SELECT count(*) FROM party_household h JOIN building b ON b.id = h.building_id
        JOIN party_branch_grid x ON x.grid_code = b.grid_code WHERE x.branch_id = br.id)
         AS households,
       ST_AsGeoJSON(ST_Union(g.geom), 6) AS geometry
FROM party_branch br
JOIN party_branch_grid bg ON bg.branch_id = br.id
JOIN grid g ON g.code = bg.grid_code
WHERE :prefix = '' OR br.community_code LIKE :prefix || '%'
GROUP BY br.id
ORDER BY br.id
