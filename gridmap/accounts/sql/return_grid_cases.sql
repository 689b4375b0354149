-- A deactivated grid worker's open cases go back to the community to reassign: every case of the
-- grids they serve that the grid owns and works on (the service passes the states: dispatched,
-- in progress), the grids merged into them included, becomes 'returned' with no owner, and gets a 'return' event by the administrator.
-- Suspended cases keep their state: the community paused them on purpose and resumes them itself.
-- Co-handling departments leave as on a department's return (the next owner decides whom to call).
WITH picked AS (
  SELECT c.id, c.state
  FROM "case" c
  WHERE c.owner_kind = 'grid'
    AND c.state = ANY(CAST(:states AS varchar[]))
    AND c.grid_code = ANY(grid_lineage(ARRAY(
          SELECT m.grid_code FROM grid_member m
          WHERE m.person_id = :person_id AND m.role = 'grid_worker')))
  ORDER BY c.id
  FOR UPDATE
), cohandlers AS (
  DELETE FROM case_cohandler h USING picked
  WHERE h.case_id = picked.id
  RETURNING h.case_id, h.department_code
), returned AS (
  UPDATE "case" c
  SET state = 'returned', owner_kind = NULL, owner_department = NULL, owner_person_id = NULL,
      suspended_from = NULL, version = c.version + 1, updated_at = now()
  FROM picked
  WHERE c.id = picked.id
  RETURNING c.id, picked.state AS from_state
)
INSERT INTO case_event (case_id, action, from_state, to_state, actor_id, note, payload)
SELECT r.id, 'return', r.from_state, 'returned', :actor_id, :note,
       jsonb_build_object('reason', 'grid_worker_deactivated', 'account_id', CAST(:account_id AS bigint),
                          'departments', coalesce((SELECT jsonb_agg(h.department_code
                                                                    ORDER BY h.department_code)
                                                   FROM cohandlers h WHERE h.case_id = r.id),
                                                  '[]'::jsonb))
FROM returned r
ORDER BY r.id
RETURNING case_id
