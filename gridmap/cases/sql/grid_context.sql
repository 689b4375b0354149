-- What a new case needs from its grid: its community, its grid worker, the departments
-- enrolled in it and the grid's building nearest to the case. (The sub-district and district
-- codes are prefixes of the grid's code: gridmap.codes derives them.)
SELECT g.code, g.community_code,
       (SELECT person_id FROM grid_member
         WHERE grid_code = g.code AND role = 'grid_worker') AS worker_id,
       ARRAY(SELECT department_code FROM grid_enrollment
              WHERE grid_code = g.code ORDER BY department_code) AS departments,
       (SELECT b.code FROM building b WHERE b.grid_code = g.code
         ORDER BY ST_Distance(b.geom::geography,
                              ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography), b.code
         LIMIT 1) AS building_code
FROM grid g
WHERE g.code = :grid
