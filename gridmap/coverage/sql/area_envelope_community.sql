-- The community's bounding box grown by :m metres (in the metric CRS), back in WGS84.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Transform(ST_Expand(ST_Envelope(ST_Transform(geom, 4549)), :m), 4326) AS e
      FROM community WHERE code = :c) s
