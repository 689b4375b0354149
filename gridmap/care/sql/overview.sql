-- The zero-report overview of an area (:prefix '' = the whole city): per grid, active entries,
-- entries overdue at :now, and the month's report. Set-based: one pass over the area's entries
-- (last_visit_at is kept on the entry by a trigger, so no visit is read).
WITH area_grids AS (
  SELECT g.code, g.name, g.community_code FROM grid g
  WHERE :prefix = '' OR g.code LIKE :prefix || '%'
), entries AS (
  SELECT e.id, b.grid_code, coalesce(e.last_visit_at, e.created_at) AS since
  FROM care_entry e
  JOIN building b ON b.id = e.building_id
  JOIN area_grids ag ON ag.code = b.grid_code
  WHERE e.active
), reasons AS (
  SELECT x.entry_id, array_agg(x.reason ORDER BY x.reason)::varchar[] AS reasons
  FROM care_entry_reason x JOIN entries e ON e.id = x.entry_id
  GROUP BY x.entry_id
), intervals AS (
  -- Rules are matched once per distinct set of reasons (a few dozen), not once per entry.
  SELECT s.reasons, coalesce(min(r.interval_days), :fallback_days) AS interval_days
  FROM (SELECT DISTINCT reasons FROM reasons) s LEFT JOIN care_rule r ON r.reasons <@ s.reasons
  GROUP BY s.reasons
), per_grid AS (
  SELECT e.grid_code, count(*) AS entries,
         count(*) FILTER (WHERE e.since + make_interval(
           days => coalesce(i.interval_days, :fallback_days)) < :now) AS overdue
  FROM entries e
  LEFT JOIN reasons s ON s.entry_id = e.id
  LEFT JOIN intervals i ON i.reasons = s.reasons
  GROUP BY e.grid_code
)
SELECT ag.code, ag.name, ag.community_code, c.name AS community_name,
       coalesce(p.entries, 0) AS entries, coalesce(p.overdue, 0) AS overdue,
       z.id IS NOT NULL AS reported, z.submitted_at, z.no_new_difficulty,
       CASE WHEN :with_geom THEN ST_AsGeoJSON(g.geom, 6) END AS geometry
FROM area_grids ag
JOIN community c ON c.code = ag.community_code
JOIN grid g ON g.code = ag.code
LEFT JOIN per_grid p ON p.grid_code = ag.code
LEFT JOIN care_zero_report z ON z.grid_code = ag.code AND z.month = :month
WHERE NOT :problems_only OR z.id IS NULL OR coalesce(p.overdue, 0) > 0
ORDER BY z.id IS NOT NULL, coalesce(p.overdue, 0) DESC, ag.code
