-- The active register entries of one grid, with their reasons, interval and next due time.
WITH entries AS (
  SELECT e.*, b.code AS building_code, b.name AS building_name, b.address AS building_address,
         b.grid_code
  FROM care_entry e JOIN building b ON b.id = e.building_id
  WHERE b.grid_code = :grid AND e.active
), reasons AS (
  SELECT x.entry_id, array_agg(x.reason ORDER BY x.reason)::varchar[] AS reasons
  FROM care_entry_reason x JOIN entries e ON e.id = x.entry_id
  GROUP BY x.entry_id
), due AS (
  SELECT s.entry_id, s.reasons,
         coalesce(min(r.interval_days), :fallback_days) AS interval_days
  FROM reasons s LEFT JOIN care_rule r ON r.reasons <@ s.reasons
  GROUP BY s.entry_id, s.reasons
)
SELECT e.id, e.name, e.phone, e.unit, e.household, e.carer, e.note, e.building_code,
       e.building_name, e.building_address, e.grid_code, e.created_at, e.last_visit_at,
       coalesce(d.reasons, '{}') AS reasons, coalesce(d.interval_days, :fallback_days) AS interval_days,
       coalesce(e.last_visit_at, e.created_at)
         + make_interval(days => coalesce(d.interval_days, :fallback_days)) AS due_at
FROM entries e LEFT JOIN due d ON d.entry_id = e.id
ORDER BY due_at, e.id
