-- Every building of a run within :area (a code prefix, '' = all) as a flat row (for CSV
-- export): walking distance, band, facility.
SELECT bl.code AS building_code, bl.name AS building_name, bl.address, bl.grid_code,
       bl.residents, bl.aged_60_plus AS elderly,
       round(cb.distance_m::numeric, 1)::float AS distance_m,
       CASE WHEN cb.distance_m <= :d THEN 'covered'
            WHEN cb.distance_m <= :near THEN 'near_miss' ELSE 'far' END AS band,
       f.code AS facility_code, f.name AS facility_name,
       round(ST_X(ST_PointOnSurface(bl.geom))::numeric, 7)::float AS lon,
       round(ST_Y(ST_PointOnSurface(bl.geom))::numeric, 7)::float AS lat
FROM coverage_building cb
JOIN building bl ON bl.id = cb.building_id
LEFT JOIN facility f ON f.id = cb.facility_id
WHERE cb.run_id = :run AND starts_with(bl.grid_code, :area)
ORDER BY bl.id
