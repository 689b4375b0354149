-- The care register's part of a monthly scorecard: per unit (:width = the level's code width,
-- units of :level inside :area, '' = the city), for the month [:start, :end) and the one before
-- [:previous, :start), side by side:
--   care_due      entries on the register during the month, except those closed in the month
--                 without a visit (month.sql's checklist: visited + explained + pending)
--   care_visited  of those, entries visited at least once in the month
--   reports_due   grids whose report of the month is filed, or whose deadline has passed at :as_of
--   reports_on_time  grids that filed before the deadline (:deadline, :prev_deadline)
-- then the two rates and their ranks among the units shown (rank(): ties share a rank; a unit
-- without a base has no rate and no rank). Grids are the current grids (the overview's).
WITH months (m, month, s, e, deadline) AS (
  VALUES (0, CAST(:prev_month AS date), CAST(:previous AS timestamptz),
          CAST(:start AS timestamptz), CAST(:prev_deadline AS timestamptz)),
         (1, CAST(:month AS date), CAST(:start AS timestamptz), CAST(:end AS timestamptz),
          CAST(:deadline AS timestamptz))
), units AS (
  SELECT code, name FROM grid WHERE :level = 'grid' AND code LIKE :area || '%'
  UNION ALL
  SELECT code, name FROM community WHERE :level = 'community' AND code LIKE :area || '%'
  UNION ALL
  SELECT code, name FROM subdistrict WHERE :level = 'subdistrict' AND code LIKE :area || '%'
), grids AS (
  SELECT code, left(code, :width) AS unit FROM grid WHERE code LIKE :area || '%'
), entries AS (
  SELECT g.unit, mo.m,
         (e.last_visit_at >= mo.s AND EXISTS (
            SELECT 1 FROM care_visit v WHERE v.entry_id = e.id
              AND v.visited_at >= mo.s AND v.visited_at < mo.e)) AS visited,
         (NOT e.active AND e.closed_at < mo.e) AS closed
  FROM care_entry e
  JOIN building b ON b.id = e.building_id
  JOIN grids g ON g.code = b.grid_code
  JOIN months mo ON e.created_at < mo.e AND (e.active OR e.closed_at >= mo.s)
), visits AS (
  SELECT unit, m, count(*) FILTER (WHERE visited OR NOT closed) AS due,
         count(*) FILTER (WHERE visited) AS done
  FROM entries GROUP BY unit, m
), reports AS (
  SELECT g.unit, mo.m,
         count(*) FILTER (WHERE z.id IS NOT NULL OR mo.deadline <= :as_of) AS due,
         count(*) FILTER (WHERE z.submitted_at < mo.deadline) AS on_time
  FROM grids g CROSS JOIN months mo
  LEFT JOIN care_zero_report z ON z.grid_code = g.code AND z.month = mo.month
  GROUP BY g.unit, mo.m
), joined AS (
  SELECT u.code, u.name,
         coalesce(v1.due, 0) AS care_due, coalesce(v1.done, 0) AS care_visited,
         coalesce(v0.due, 0) AS prev_care_due, coalesce(v0.done, 0) AS prev_care_visited,
         coalesce(r1.due, 0) AS zero_reports_due, coalesce(r1.on_time, 0) AS zero_reports_on_time,
         coalesce(r0.due, 0) AS prev_zero_reports_due,
         coalesce(r0.on_time, 0) AS prev_zero_reports_on_time
  FROM units u
  LEFT JOIN visits v1 ON v1.unit = u.code AND v1.m = 1
  LEFT JOIN visits v0 ON v0.unit = u.code AND v0.m = 0
  LEFT JOIN reports r1 ON r1.unit = u.code AND r1.m = 1
  LEFT JOIN reports r0 ON r0.unit = u.code AND r0.m = 0
), rated AS (
  SELECT j.*,
         care_visited::float / nullif(care_due, 0) AS visit_rate,
         prev_care_visited::float / nullif(prev_care_due, 0) AS prev_visit_rate,
         zero_reports_on_time::float / nullif(zero_reports_due, 0) AS zero_report_rate,
         prev_zero_reports_on_time::float / nullif(prev_zero_reports_due, 0)
           AS prev_zero_report_rate
  FROM joined j
)
SELECT r.*,
       CASE WHEN visit_rate IS NOT NULL THEN rank() OVER (
         ORDER BY visit_rate IS NULL, visit_rate DESC) END AS rank_visit_rate,
       CASE WHEN prev_visit_rate IS NOT NULL THEN rank() OVER (
         ORDER BY prev_visit_rate IS NULL, prev_visit_rate DESC) END AS prev_rank_visit_rate,
       CASE WHEN zero_report_rate IS NOT NULL THEN rank() OVER (
         ORDER BY zero_report_rate IS NULL, zero_report_rate DESC) END AS rank_zero_report_rate,
       CASE WHEN prev_zero_report_rate IS NOT NULL THEN rank() OVER (
         ORDER BY prev_zero_report_rate IS NULL, prev_zero_report_rate DESC) END
         AS prev_rank_zero_report_rate
FROM rated r
ORDER BY r.code
