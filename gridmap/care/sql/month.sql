-- A grid's zero-report checklist for one month: every entry active during the month (created
-- before its end, not closed before its start), its last visit in the month and its explanation.
SELECT e.id, e.name, e.unit, e.household, b.code AS building_code, b.name AS building_name,
       (NOT e.active AND e.closed_at < :end) AS closed, e.closed_reason,
       e.last_visit_at,
       (SELECT max(v.visited_at) FROM care_visit v
         WHERE v.entry_id = e.id AND v.visited_at >= :start AND v.visited_at < :end)
         AS visited_at,
       x.reason AS explanation
FROM care_entry e
JOIN building b ON b.id = e.building_id
LEFT JOIN care_explanation x ON x.entry_id = e.id AND x.month = :month
WHERE b.grid_code = :grid AND e.created_at < :end
  AND (e.active OR e.closed_at >= :start)
ORDER BY e.id
