-- Current coverage runs: facility type, life circle, parameters and the totals of one area
-- (:level, :area: a district, sub-district or community) or of every district (:level
-- 'district', :area ''), with the facilities of the type inside it.
SELECT r.id AS run_id, r.facility_type,
       CASE WHEN :en THEN ft.name_en ELSE ft.name_zh END AS facility_type_name,
       r.circle, CASE WHEN :en THEN lc.name_en ELSE lc.name_zh END AS circle_name,
       r.max_distance_m, r.metric_srid, r.computed_at, r.seconds,
       (SELECT count(*) FROM facility f
        WHERE f.type = r.facility_type
          AND starts_with(coalesce(f.community_code, ''), :area)) AS facilities,
       coalesce(t.buildings, 0) AS buildings, coalesce(t.buildings_covered, 0) AS buildings_covered,
       coalesce(t.residents, 0) AS residents, coalesce(t.residents_covered, 0) AS residents_covered,
       coalesce(t.elderly, 0) AS elderly, coalesce(t.elderly_covered, 0) AS elderly_covered,
       -- The data that changed since the run read it (migration 0010): stale if any.
       ARRAY(SELECT v.layer FROM data_version v
             WHERE v.version > coalesce((r.inputs ->> v.layer)::bigint, -1)
               AND (v.layer IN ('streets', 'buildings')
                    OR (v.layer = 'facilities' AND v.key = r.facility_type))
             ORDER BY v.layer) AS stale
FROM coverage_run r
JOIN facility_type ft ON ft.code = r.facility_type
JOIN life_circle lc ON lc.code = r.circle
LEFT JOIN LATERAL (
  SELECT sum(a.buildings)::bigint AS buildings, sum(a.buildings_covered)::bigint AS buildings_covered,
         sum(a.residents)::bigint AS residents, sum(a.residents_covered)::bigint AS residents_covered,
         sum(a.elderly)::bigint AS elderly, sum(a.elderly_covered)::bigint AS elderly_covered
  FROM coverage_area a
  WHERE a.run_id = r.id AND a.level = :level AND starts_with(a.code, :area)
) t ON true
WHERE r.current
ORDER BY ft.sort_order, ft.code, lc.walk_minutes
