-- The bounding box of what-if edits (added points, removed facilities) grown by :margin metres
-- in the metric CRS :srid, returned in WGS84. The grown box is densified before going back to
-- WGS84 so that its curved image is bounded by the box of its vertices.
WITH edit AS (
  SELECT ST_SetSRID(ST_MakePoint(p.x, p.y), 4326) AS geom
    FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS p(x, y)
  UNION ALL
  SELECT geom FROM facility WHERE type = :type AND id = ANY(CAST(:ids AS bigint[]))
), grown AS (
  SELECT ST_Transform(ST_Segmentize(ST_Expand(ST_Envelope(ST_Collect(ST_Transform(geom, :srid))),
                                              :margin), 100.0), 4326) AS box
    FROM edit
)
SELECT ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box) FROM grown
