-- Mediation points (issue 13 item 3) on the loaded territory, set-based: every community's
-- mediation_point facility registered at the community level (the first, when a community
-- has several), and a synthetic point for each sub-district and district (with territory
-- loaded) that has none, at a
-- point inside its area (as its office would be), in the community there. Statements are
-- separated by blank lines.
INSERT INTO mediation_point (facility_id, level, area_code, synthetic)
SELECT DISTINCT ON (f.community_code) f.id, 'community', f.community_code, f.synthetic
FROM facility f
WHERE f.type = 'mediation_point' AND f.community_code IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM mediation_point p WHERE p.area_code = f.community_code)
ORDER BY f.community_code, f.id;

WITH areas AS (
  SELECT s.code, s.name || '评理说事中心' AS name, ST_PointOnSurface(s.geom) AS geom
  FROM subdistrict s
  UNION ALL
  SELECT d.code, d.name || '评理说事指导中心', ST_PointOnSurface(d.geom) FROM district d
  WHERE EXISTS (SELECT 1 FROM subdistrict s WHERE s.district_code = d.code)
), missing AS (
  SELECT a.* FROM areas a
  WHERE NOT EXISTS (SELECT 1 FROM mediation_point p WHERE p.area_code = a.code)
), placed AS (
  INSERT INTO facility (code, type, name, hours, community_code, synthetic, geom)
  SELECT 'F' || m.code || 'MP01', 'mediation_point', m.name, '08:30-17:00',
         (SELECT c.code FROM community c WHERE ST_Intersects(c.geom, m.geom) ORDER BY c.code
          LIMIT 1), true, m.geom
  FROM missing m
  RETURNING id, code
)
INSERT INTO mediation_point (facility_id, level, area_code, synthetic)
SELECT p.id, CASE length(p.code) - 5 WHEN 9 THEN 'subdistrict' ELSE 'district' END,
       substr(p.code, 2, length(p.code) - 5), true
FROM placed p;
