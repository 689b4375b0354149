-- Active register entries per grid of an area (:prefix '' = the whole city), no person in it.
SELECT g.code, g.name, count(e.id) AS entries
FROM grid g
LEFT JOIN building b ON b.grid_code = g.code
LEFT JOIN care_entry e ON e.building_id = b.id AND e.active
WHERE :prefix = '' OR g.code LIKE :prefix || '%'
GROUP BY g.code, g.name
ORDER BY g.code
