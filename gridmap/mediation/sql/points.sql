-- Mediation points serving an area (:prefix '' = the whole city) and the points above it (a
-- community's staff see where their disputes go when referred up), each with its disputes
-- counted: open now and pending acceptance, and received / agreed / referred up / referred to
-- court since :month_start and since :year_start. No person in it. One pass over the points'
-- disputes of the year and those still open (ix_dispute_point_state).
WITH pts AS (
  SELECT p.facility_id AS id, p.level, p.area_code, f.code, f.name,
         ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat
  FROM mediation_point p JOIN facility f ON f.id = p.facility_id
  WHERE :prefix = '' OR p.area_code LIKE :prefix || '%' OR :prefix LIKE p.area_code || '%'
), counted AS (
  SELECT d.point_id,
         count(*) FILTER (WHERE d.state IN ('pending', 'accepted', 'in_mediation')) AS open,
         count(*) FILTER (WHERE d.state = 'pending') AS pending,
         count(*) FILTER (WHERE d.created_at >= :month_start) AS received_month,
         count(*) FILTER (WHERE d.created_at >= :year_start) AS received_year,
         count(*) FILTER (WHERE d.state = 'agreed' AND d.closed_at >= :month_start) AS agreed_month,
         count(*) FILTER (WHERE d.state = 'agreed' AND d.closed_at >= :year_start) AS agreed_year,
         count(*) FILTER (WHERE d.state = 'referred_up' AND d.closed_at >= :month_start)
           AS referred_up_month,
         count(*) FILTER (WHERE d.state = 'referred_up' AND d.closed_at >= :year_start)
           AS referred_up_year,
         count(*) FILTER (WHERE d.state = 'referred_to_court' AND d.closed_at >= :month_start)
           AS referred_to_court_month,
         count(*) FILTER (WHERE d.state = 'referred_to_court' AND d.closed_at >= :year_start)
           AS referred_to_court_year
  FROM dispute d JOIN pts ON pts.id = d.point_id
  WHERE d.state IN ('pending', 'accepted', 'in_mediation') OR d.created_at >= :year_start
     OR d.closed_at >= :year_start
  GROUP BY d.point_id
)
SELECT pts.*, coalesce(c.open, 0) AS open, coalesce(c.pending, 0) AS pending,
       coalesce(c.received_month, 0) AS received_month,
       coalesce(c.received_year, 0) AS received_year,
       coalesce(c.agreed_month, 0) AS agreed_month, coalesce(c.agreed_year, 0) AS agreed_year,
       coalesce(c.referred_up_month, 0) AS referred_up_month,
       coalesce(c.referred_up_year, 0) AS referred_up_year,
       coalesce(c.referred_to_court_month, 0) AS referred_to_court_month,
       coalesce(c.referred_to_court_year, 0) AS referred_to_court_year
FROM pts LEFT JOIN counted c ON c.point_id = pts.id
ORDER BY length(pts.area_code), pts.area_code
