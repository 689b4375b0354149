-- How many cases return_grid_cases.sql would return now (the same selection).
SELECT count(*)
FROM "case" c
WHERE c.owner_kind = 'grid'
  AND c.state = ANY(CAST(:states AS varchar[]))
  AND c.grid_code = ANY(grid_lineage(ARRAY(
        SELECT m.grid_code FROM grid_member m
        WHERE m.person_id = :person_id AND m.role = 'grid_worker')))
