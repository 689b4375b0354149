-- The zero-report overview of an area (:prefix '' = the whole city): per grid, its worker,
-- active entries, entries overdue at :now, the month's checklist in counts (visited, explained,
-- closed, pending: the statuses of month.sql, same precedence) and the month's report with its
-- state against :deadline. Set-based: one pass over the area's entries (the active ones and
-- those on the register during the month); no visit is read: last_visit_at and visit_months
-- are kept on the entry by the visits' trigger.
WITH area_grids AS (
  SELECT g.code, g.name, g.community_code FROM grid g
  WHERE :prefix = '' OR g.code LIKE :prefix || '%'
), entries AS MATERIALIZED (
  SELECT e.id, b.grid_code, e.active, coalesce(e.last_visit_at, e.created_at) AS since,
         (e.created_at < :end AND (e.active OR e.closed_at >= :start)) AS in_month,
         CASE WHEN CAST(:month AS date) = ANY(e.visit_months) THEN 'visited'
              WHEN x.entry_id IS NOT NULL THEN 'explained'
              WHEN NOT e.active AND e.closed_at < :end THEN 'closed'
              ELSE 'pending' END AS status
  FROM care_entry e
  JOIN building b ON b.id = e.building_id
  JOIN area_grids ag ON ag.code = b.grid_code
  LEFT JOIN care_explanation x ON x.entry_id = e.id AND x.month = :month
  WHERE e.active OR (e.created_at < :end AND e.closed_at >= :start)
), reasons AS (
  SELECT x.entry_id, array_agg(x.reason ORDER BY x.reason)::varchar[] AS reasons
  FROM care_entry_reason x JOIN entries e ON e.id = x.entry_id
  WHERE e.active
  GROUP BY x.entry_id
), intervals AS (
  -- Rules are matched once per distinct set of reasons (a few dozen), not once per entry.
  SELECT s.reasons, coalesce(min(r.interval_days), :fallback_days) AS interval_days
  FROM (SELECT DISTINCT reasons FROM reasons) s LEFT JOIN care_rule r ON r.reasons <@ s.reasons
  GROUP BY s.reasons
), per_grid AS (
  SELECT e.grid_code, count(*) FILTER (WHERE e.active) AS entries,
         count(*) FILTER (WHERE e.active AND e.since + make_interval(
           days => coalesce(i.interval_days, :fallback_days)) < :now) AS overdue,
         count(*) FILTER (WHERE e.in_month AND e.status = 'visited') AS visited,
         count(*) FILTER (WHERE e.in_month AND e.status = 'explained') AS explained,
         count(*) FILTER (WHERE e.in_month AND e.status = 'closed') AS closed,
         count(*) FILTER (WHERE e.in_month AND e.status = 'pending') AS pending
  FROM entries e
  LEFT JOIN reasons s ON s.entry_id = e.id
  LEFT JOIN intervals i ON i.reasons = s.reasons
  GROUP BY e.grid_code
), workers AS (
  SELECT DISTINCT ON (m.grid_code) m.grid_code, p.name AS worker
  FROM grid_member m
  JOIN area_grids ag ON ag.code = m.grid_code
  JOIN person p ON p.id = m.person_id
  WHERE m.role = 'grid_worker'
  ORDER BY m.grid_code, m.person_id
)
SELECT ag.code, ag.name, ag.community_code, c.name AS community_name, w.worker,
       coalesce(p.entries, 0) AS entries, coalesce(p.overdue, 0) AS overdue,
       coalesce(p.visited, 0) AS visited, coalesce(p.explained, 0) AS explained,
       coalesce(p.closed, 0) AS closed, coalesce(p.pending, 0) AS pending,
       z.id IS NOT NULL AS reported, z.submitted_at, z.no_new_difficulty,
       CASE WHEN z.id IS NOT NULL AND z.submitted_at < :deadline THEN 'reported'
            WHEN z.id IS NOT NULL THEN 'reported_late'
            WHEN :now >= :deadline THEN 'late'
            ELSE 'not_due' END AS report_state,
       CASE WHEN :with_geom THEN ST_AsGeoJSON(g.geom, 6) END AS geometry
FROM area_grids ag
JOIN community c ON c.code = ag.community_code
JOIN grid g ON g.code = ag.code
LEFT JOIN per_grid p ON p.grid_code = ag.code
LEFT JOIN workers w ON w.grid_code = ag.code
LEFT JOIN care_zero_report z ON z.grid_code = ag.code AND z.month = :month
WHERE NOT :problems_only OR z.id IS NULL OR coalesce(p.overdue, 0) > 0
ORDER BY z.id IS NOT NULL, coalesce(p.overdue, 0) DESC, ag.code
