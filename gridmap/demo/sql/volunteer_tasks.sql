-- Synthetic volunteer tasks (issue 13 item 2) from the demo's cases and care visits, in every
-- state: about one case in 40 and every visit that found a need is handed to a team of its
-- community; most are done with 1-6 hours (points by the rule in force), some accepted, some
-- open, a few cancelled. Statements are separated by blank lines; random() is seeded.
CREATE TEMPORARY TABLE demo_task_source ON COMMIT DROP AS
SELECT c.id AS case_id, NULL::bigint AS visit_id, c.grid_code, c.created_at AS at,
       c.created_by AS by, coalesce(cc.name_zh, '') || '：协助处置' AS title, random() AS r
FROM "case" c LEFT JOIN case_category cc ON cc.code = c.category
WHERE random() < 0.025
UNION ALL
SELECT NULL, v.id, b.grid_code, v.visited_at, v.visitor_id, '关爱走访：上门帮扶', random()
FROM care_visit v JOIN care_entry e ON e.id = v.entry_id JOIN building b ON b.id = e.building_id
WHERE v.needs_help;

INSERT INTO volunteer_task (team_id, case_id, visit_id, grid_code, title, state, published_by,
                            published_at, volunteer_id, accepted_at, done_at, hours, points,
                            note, recorded_by, synthetic)
SELECT t.id, s.case_id, s.visit_id, s.grid_code, left(s.title, 100), st.state, s.by,
       s.at + interval '2 hours',
       CASE WHEN st.state IN ('accepted', 'done') THEN v.id END,
       CASE WHEN st.state IN ('accepted', 'done') THEN s.at + interval '5 hours' END,
       CASE WHEN st.state = 'done' THEN s.at + interval '2 days' END,
       CASE WHEN st.state = 'done' THEN h.hours END,
       CASE WHEN st.state = 'done' THEN r.points_per_task + round(h.hours * r.points_per_hour)::int END,
       CASE WHEN st.state = 'cancelled' THEN '居民已自行解决' ELSE '' END,
       CASE WHEN st.state <> 'open' THEN s.by END, true
FROM demo_task_source s
JOIN LATERAL (SELECT id FROM volunteer_team WHERE community_code = left(s.grid_code, 12)
              ORDER BY id LIMIT 1 OFFSET (floor(s.r * 2))::int) t ON true
JOIN LATERAL (SELECT id FROM volunteer WHERE team_id = t.id
              ORDER BY id LIMIT 1 OFFSET (floor(s.r * 1000))::int % 8) v ON true
CROSS JOIN LATERAL (SELECT CASE WHEN s.r < 0.75 THEN 'done' WHEN s.r < 0.85 THEN 'accepted'
                                WHEN s.r < 0.95 THEN 'open' ELSE 'cancelled' END AS state) st
CROSS JOIN LATERAL (SELECT (1 + floor(s.r * 1000)::int % 11) * 0.5 AS hours) h
CROSS JOIN LATERAL (SELECT points_per_hour, points_per_task FROM volunteer_points_rule
                    ORDER BY valid_from DESC LIMIT 1) r;
