-- Centre of the bounding box of the loaded territory (every district), in WGS84 degrees: the
-- metric CRS is the Gauss-Kruger zone nearest it. NULLs when no district is loaded.
SELECT (ST_XMin(e) + ST_XMax(e)) / 2, (ST_YMin(e) + ST_YMax(e)) / 2
FROM (SELECT ST_Extent(geom) AS e FROM district) s
