-- Party-member central households of an area (personal data: the service asks only for grids
-- in the principal's scope, :grids NULL meaning every grid under :prefix).
SELECT h.person_id AS id, p.name, p.phone, b.code AS building_code, b.name AS building_name,
       b.address, b.grid_code, h.unit, h.household, pg.name AS party_group,
       ST_X(pt.geom) AS lon, ST_Y(pt.geom) AS lat
FROM party_household h
JOIN person p ON p.id = h.person_id
JOIN building b ON b.id = h.building_id
LEFT JOIN party_group pg ON pg.id = h.group_id
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS geom) pt
WHERE (:prefix = '' OR b.grid_code LIKE :prefix || '%')
  AND (CAST(:grids AS text[]) IS NULL OR b.grid_code = ANY(CAST(:grids AS text[])))
ORDER BY b.grid_code, b.code, h.person_id
