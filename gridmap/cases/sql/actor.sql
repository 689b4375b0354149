-- A person with the grids they serve in (grid worker, Party household) and are enrolled in.
SELECT p.id, p.name, p.role, p.community_code, p.department_code,
       ARRAY(SELECT grid_code FROM grid_member WHERE person_id = p.id) AS member_grids,
       ARRAY(SELECT grid_code FROM grid_enrollment WHERE person_id = p.id) AS enrolled_grids
FROM person p
WHERE p.id = :id
