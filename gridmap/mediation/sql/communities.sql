-- Disputes per community of an area (:prefix '' = the whole city), by where they arose, at
-- every level: open now; received (a dispute's first acceptance: referrals up are the same
-- dispute), agreed, referred up and referred to court since :month_start and :year_start.
-- No person in it.
WITH comms AS (
  SELECT c.code, c.name FROM community c
  WHERE :prefix = '' OR c.code LIKE :prefix || '%'
), counted AS (
  SELECT d.community_code,
         count(*) FILTER (WHERE d.state IN ('pending', 'accepted', 'in_mediation')) AS open,
         count(*) FILTER (WHERE d.referred_from IS NULL AND d.created_at >= :month_start)
           AS received_month,
         count(*) FILTER (WHERE d.referred_from IS NULL AND d.created_at >= :year_start)
           AS received_year,
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
  FROM dispute d JOIN comms ON comms.code = d.community_code
  WHERE d.state IN ('pending', 'accepted', 'in_mediation') OR d.created_at >= :year_start
     OR d.closed_at >= :year_start
  GROUP BY d.community_code
)
SELECT comms.code, comms.name, coalesce(c.open, 0) AS open,
       coalesce(c.received_month, 0) AS received_month,
       coalesce(c.received_year, 0) AS received_year,
       coalesce(c.agreed_month, 0) AS agreed_month, coalesce(c.agreed_year, 0) AS agreed_year,
       coalesce(c.referred_up_month, 0) AS referred_up_month,
       coalesce(c.referred_up_year, 0) AS referred_up_year,
       coalesce(c.referred_to_court_month, 0) AS referred_to_court_month,
       coalesce(c.referred_to_court_year, 0) AS referred_to_court_year
FROM comms LEFT JOIN counted c ON c.community_code = comms.code
ORDER BY comms.code
