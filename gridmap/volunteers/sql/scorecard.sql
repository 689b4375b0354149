-- The volunteers' part of a monthly scorecard: per unit (:width = the level's code width, units
-- of :level inside :area, '' = the city), for the month [:start, :end) and the one before
-- [:previous, :start), side by side:
--   volunteer_tasks_done  tasks recorded done in the month in the unit's grids
--   volunteer_hours       their hours (志愿服务时长)
-- A task belongs to the grid of the case or visit it came from, and to the month it was done
-- in. One range scan of the two months' done tasks.
WITH units AS (
  SELECT code, name FROM grid WHERE :level = 'grid' AND code LIKE :area || '%'
  UNION ALL
  SELECT code, name FROM community WHERE :level = 'community' AND code LIKE :area || '%'
  UNION ALL
  SELECT code, name FROM subdistrict WHERE :level = 'subdistrict' AND code LIKE :area || '%'
), per_unit AS (
  SELECT left(t.grid_code, :width) AS unit,
         count(*) FILTER (WHERE t.done_at >= :start) AS done1,
         sum(t.hours) FILTER (WHERE t.done_at >= :start) AS hours1,
         count(*) FILTER (WHERE t.done_at < :start) AS done0,
         sum(t.hours) FILTER (WHERE t.done_at < :start) AS hours0
  FROM volunteer_task t
  WHERE t.state = 'done' AND t.done_at >= :previous AND t.done_at < :end
    AND t.grid_code LIKE :area || '%'
  GROUP BY 1
)
SELECT u.code, u.name,
       CAST(coalesce(x.done1, 0) AS int) AS volunteer_tasks_done,
       CAST(coalesce(x.hours1, 0) AS float) AS volunteer_hours,
       CAST(coalesce(x.done0, 0) AS int) AS prev_volunteer_tasks_done,
       CAST(coalesce(x.hours0, 0) AS float) AS prev_volunteer_hours
FROM units u LEFT JOIN per_unit x ON x.unit = u.code
ORDER BY u.code
