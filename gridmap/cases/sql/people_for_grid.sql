-- The people who may act on a grid's cases: its members (grid worker, Party households), the
-- department staff enrolled in it and its community's secretary; worker first, then secretary,
-- staff by department, Party households last.
SELECT p.id, p.name, p.role, d.name_zh AS department_zh, d.name_en AS department_en
FROM person p LEFT JOIN department d ON d.code = p.department_code
WHERE p.id IN (SELECT person_id FROM grid_member WHERE grid_code = :grid
               UNION SELECT person_id FROM grid_enrollment WHERE grid_code = :grid)
   OR (p.role = 'community_secretary' AND p.community_code = :community)
ORDER BY CASE p.role WHEN 'grid_worker' THEN 0 WHEN 'community_secretary' THEN 1
                     WHEN 'department_staff' THEN 2 ELSE 3 END, d.sort_order, p.id
