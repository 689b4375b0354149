-- An account as a principal: its role, scope and the grids its role works in. A grid worker's
-- grids are those they serve as grid worker; a department's staff member's grids are those
-- where they are enrolled for their own department (网格吹哨、部门报到). Either way with the grids
-- merged into those (grid_lineage, migration 0013): their cases go on with the surviving grid.
SELECT a.id, a.username, a.person_id, a.role, a.area_code, a.department_code, a.active,
       a.session_epoch, a.must_change_password, p.name,
       CASE a.role
         WHEN 'grid_worker' THEN grid_lineage(ARRAY(
           SELECT m.grid_code FROM grid_member m
           WHERE m.person_id = a.person_id AND m.role = 'grid_worker'))
         WHEN 'department_staff' THEN grid_lineage(ARRAY(
           SELECT e.grid_code FROM grid_enrollment e
           WHERE e.person_id = a.person_id AND e.department_code = a.department_code))
         ELSE ARRAY[]::varchar[]
       END AS grids
FROM account a
JOIN person p ON p.id = a.person_id
WHERE a.id = :id
