-- One row per area of :level ('community' or 'grid') within the code :prefix and per required
-- (facility type, circle) pair, with the totals of the pair's current run (NULL when the pair
-- has no current run, or the area had no building in it). The area's GeoJSON geometry only
-- when :with_geometry.
WITH a AS (
  SELECT code, name, geom FROM community WHERE :level = 'community' AND code LIKE :prefix
  UNION ALL
  SELECT code, name, geom FROM grid WHERE :level = 'grid' AND code LIKE :prefix
)
SELECT a.code, a.name, r.facility_type, r.circle, run.id AS run_id,
       ca.residents, ca.residents_covered, ca.elderly, ca.elderly_covered,
       CASE WHEN CAST(:with_geometry AS boolean) THEN ST_AsGeoJSON(a.geom, 7) END AS geometry
FROM a
CROSS JOIN coverage_rule r
JOIN life_circle c ON c.code = r.circle
LEFT JOIN coverage_run run ON run.facility_type = r.facility_type
     AND run.circle = r.circle AND run.current
LEFT JOIN coverage_area ca ON ca.run_id = run.id AND ca.level = :level AND ca.code = a.code
WHERE r.required
ORDER BY a.code, c.walk_minutes, r.facility_type
