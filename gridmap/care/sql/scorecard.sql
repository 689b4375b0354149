-- The care register's part of a monthly scorecard: per unit (:width = the level's code width,
-- units of :level inside :area, '' = the city), for the month [:start, :end) and the one before
-- [:previous, :start), side by side:
--   care_due         entries on the register during the month, except those closed in the month
--                    without a visit (month.sql's checklist: visited + explained + pending)
--   care_visited     of those, entries visited at least once in the month
--   zero_reports_due grids whose report of the month is filed, or whose deadline has passed
--                    at :as_of
--   zero_reports_on_time  grids that filed before the deadline (:deadline, :prev_deadline)
-- then the two rates and their ranks among the units shown (rank(): ties share a rank; a unit
-- without a base has no rate and no rank). Grids are the current grids (the overview's).
-- One pass over the entries for both months (a row per entry with both months' flags; whether
-- an entry was visited in a month is its visit_months, kept by the visits' trigger, so no
-- visit is read), figures summed per grid and then per unit.
WITH units AS (
  SELECT code, name FROM grid WHERE :level = 'grid' AND code LIKE :area || '%'
  UNION ALL
  SELECT code, name FROM community WHERE :level = 'community' AND code LIKE :area || '%'
  UNION ALL
  SELECT code, name FROM subdistrict WHERE :level = 'subdistrict' AND code LIKE :area || '%'
), flags AS (
  SELECT b.grid_code,
         (e.created_at < :end AND (e.active OR e.closed_at >= :start)) AS on1,
         (e.created_at < :start AND (e.active OR e.closed_at >= :previous)) AS on0,
         (NOT e.active AND e.closed_at < :end) AS closed1,
         (NOT e.active AND e.closed_at < :start) AS closed0,
         CAST(:month AS date) = ANY(e.visit_months) AS v1,
         CAST(:prev_month AS date) = ANY(e.visit_months) AS v0
  FROM care_entry e
  JOIN building b ON b.id = e.building_id
  WHERE b.grid_code LIKE :area || '%'
    AND e.created_at < :end AND (e.active OR e.closed_at >= :previous)
), per_grid AS (
  SELECT grid_code,
         count(*) FILTER (WHERE on1 AND (v1 OR NOT closed1)) AS due1,
         count(*) FILTER (WHERE on1 AND v1) AS done1,
         count(*) FILTER (WHERE on0 AND (v0 OR NOT closed0)) AS due0,
         count(*) FILTER (WHERE on0 AND v0) AS done0
  FROM flags GROUP BY grid_code
), reports AS (
  SELECT g.code AS grid_code,
         CAST(z1.id IS NOT NULL OR CAST(:deadline AS timestamptz) <= :as_of AS int) AS rdue1,
         CAST(coalesce(z1.submitted_at < :deadline, false) AS int) AS ontime1,
         CAST(z0.id IS NOT NULL OR CAST(:prev_deadline AS timestamptz) <= :as_of AS int) AS rdue0,
         CAST(coalesce(z0.submitted_at < :prev_deadline, false) AS int) AS ontime0
  FROM grid g
  LEFT JOIN care_zero_report z1 ON z1.grid_code = g.code AND z1.month = :month
  LEFT JOIN care_zero_report z0 ON z0.grid_code = g.code AND z0.month = :prev_month
  WHERE g.code LIKE :area || '%'
), per_unit AS (
  SELECT left(r.grid_code, :width) AS unit,
         sum(coalesce(p.due1, 0)) AS due1, sum(coalesce(p.done1, 0)) AS done1,
         sum(coalesce(p.due0, 0)) AS due0, sum(coalesce(p.done0, 0)) AS done0,
         sum(r.rdue1) AS rdue1, sum(r.ontime1) AS ontime1,
         sum(r.rdue0) AS rdue0, sum(r.ontime0) AS ontime0
  FROM reports r LEFT JOIN per_grid p ON p.grid_code = r.grid_code
  GROUP BY 1
), rated AS (
  SELECT u.code, u.name,
         CAST(coalesce(x.due1, 0) AS int) AS care_due,
         CAST(coalesce(x.done1, 0) AS int) AS care_visited,
         CAST(coalesce(x.due0, 0) AS int) AS prev_care_due,
         CAST(coalesce(x.done0, 0) AS int) AS prev_care_visited,
         CAST(coalesce(x.rdue1, 0) AS int) AS zero_reports_due,
         CAST(coalesce(x.ontime1, 0) AS int) AS zero_reports_on_time,
         CAST(coalesce(x.rdue0, 0) AS int) AS prev_zero_reports_due,
         CAST(coalesce(x.ontime0, 0) AS int) AS prev_zero_reports_on_time,
         CAST(x.done1 AS float) / nullif(x.due1, 0) AS visit_rate,
         CAST(x.done0 AS float) / nullif(x.due0, 0) AS prev_visit_rate,
         CAST(x.ontime1 AS float) / nullif(x.rdue1, 0) AS zero_report_rate,
         CAST(x.ontime0 AS float) / nullif(x.rdue0, 0) AS prev_zero_report_rate
  FROM units u LEFT JOIN per_unit x ON x.unit = u.code
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
