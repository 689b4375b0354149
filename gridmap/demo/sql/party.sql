-- Synthetic Party organisation and volunteers (issue 13 item 2), set-based, after the territory
-- and its people: per community, grid Party branches, building Party groups and Party-member
-- central households at Shenhe's proportions (959 branches, 1,822 groups and 2,083 households
-- for its 1,439 grids), two volunteer teams with 8-14 volunteers each. Central households are
-- the generator's people of role party_household (enrolled in their building's grid here).
-- Names and phones are made up; every row is flagged synthetic. Statements are separated by
-- blank lines; the caller seeds random() first (setseed).
CREATE TEMPORARY TABLE demo_grid_rank ON COMMIT DROP AS
SELECT g.code, g.community_code, c.name AS community_name,
       row_number() OVER (PARTITION BY g.community_code ORDER BY g.code) - 1 AS i,
       count(*) OVER (PARTITION BY g.community_code) AS n,
       row_number() OVER (ORDER BY g.code) - 1 AS gi
FROM grid g JOIN community c ON c.code = g.community_code;

-- Quotas per community by cumulative rounding, so they add up to Shenhe's totals for its grids:
-- branches 959 per 1,439 grids (at least one per community); households 2,083 per 1,439 grids,
-- shared out in proportion to the party_household people each community has (never more).
CREATE TEMPORARY TABLE demo_community_quota ON COMMIT DROP AS
SELECT community_code, community_name, n,
       greatest(1, floor(upto * 959.0 / 1439) - floor((upto - n) * 959.0 / 1439))::int AS branches,
       (floor(p_upto * t / greatest(p_all, 1)) - floor((p_upto - p) * t / greatest(p_all, 1)))::int
         AS households
FROM (SELECT community_code, community_name, n, p,
             sum(n) OVER (ORDER BY community_code) AS upto,
             sum(p) OVER (ORDER BY community_code) AS p_upto, sum(p) OVER () AS p_all,
             least(sum(p) OVER (), round(sum(n) OVER () * 2083.0 / 1439)) AS t
      FROM (SELECT DISTINCT r.community_code, r.community_name, r.n,
                   (SELECT count(*) FROM person x WHERE x.role = 'party_household'
                    AND x.synthetic AND x.community_code = r.community_code) AS p
            FROM demo_grid_rank r) d) q;

-- Branches: grid i of a community joins branch floor(i * branches / n).
INSERT INTO party_branch (community_code, name, synthetic)
SELECT q.community_code, q.community_name || '第' || (s.k + 1) || '网格党支部', true
FROM demo_community_quota q
CROSS JOIN LATERAL generate_series(0, q.branches - 1) s(k)
ORDER BY q.community_code, s.k;

INSERT INTO party_branch_grid (grid_code, branch_id)
SELECT r.code, b.id
FROM demo_grid_rank r
JOIN demo_community_quota q ON q.community_code = r.community_code
JOIN LATERAL (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM party_branch
              WHERE community_code = r.community_code AND synthetic) b
  ON b.k = floor(r.i * q.branches / r.n);

-- Groups: each grid's most populous building, and the second one in 383 grids of 1,439 (by
-- cumulative rounding over the grids), so 1,822 for Shenhe's grids.
INSERT INTO party_group (branch_id, building_id, name, synthetic)
SELECT bg.branch_id, x.id, x.name || '党小组', true
FROM (SELECT b.id, b.name, b.grid_code,
             row_number() OVER (PARTITION BY b.grid_code ORDER BY b.residents DESC, b.id) AS rn
      FROM building b WHERE b.residents > 0) x
JOIN demo_grid_rank r ON r.code = x.grid_code
JOIN party_branch_grid bg ON bg.grid_code = x.grid_code
WHERE x.rn = 1
   OR (x.rn = 2 AND floor((r.gi + 1) * 383.0 / 1439) > floor(r.gi * 383.0 / 1439));

-- Households: the community's party_household people up to its quota, spread over the
-- community's groups in turn; each at its group's building and enrolled in that grid.
INSERT INTO party_household (person_id, building_id, group_id, unit, household, since,
                             synthetic)
SELECT p.id, g.building_id, g.id, (1 + floor(random() * 6))::int || '单元',
       (1 + floor(random() * 6))::int || '0' || (1 + floor(random() * 4))::int,
       DATE '2018-01-01' + floor(random() * 2000)::int, true
FROM (SELECT p.id, p.community_code,
             row_number() OVER (PARTITION BY p.community_code ORDER BY p.id) - 1 AS i
      FROM person p WHERE p.role = 'party_household' AND p.synthetic) p
JOIN demo_community_quota q ON q.community_code = p.community_code AND p.i < q.households
JOIN LATERAL (
  SELECT pg.id, pg.building_id,
         row_number() OVER (ORDER BY pg.id) - 1 AS k, count(*) OVER () AS m
  FROM party_group pg JOIN party_branch br ON br.id = pg.branch_id
  WHERE br.community_code = p.community_code) g ON g.k = p.i % g.m;

INSERT INTO grid_member (grid_code, person_id, role)
SELECT b.grid_code, h.person_id, 'party_household'
FROM party_household h JOIN building b ON b.id = h.building_id
WHERE h.synthetic
ON CONFLICT DO NOTHING;

UPDATE party_group pg SET leader_id = h.person_id
FROM (SELECT DISTINCT ON (group_id) group_id, person_id FROM party_household
      WHERE synthetic ORDER BY group_id, person_id) h
WHERE h.group_id = pg.id;

UPDATE party_branch br SET secretary_id = h.person_id
FROM (SELECT DISTINCT ON (x.branch_id) x.branch_id, h.person_id
      FROM party_household h JOIN party_group x ON x.id = h.group_id
      WHERE h.synthetic ORDER BY x.branch_id, h.person_id) h
WHERE h.branch_id = br.id;

-- Two teams per community (a Party-member team and a neighbours' team).
INSERT INTO volunteer_team (community_code, name, skills, created_at, synthetic)
SELECT c.code, c.name || t.suffix, t.skills, now() - interval '2 years', true
FROM community c
CROSS JOIN (VALUES ('党员志愿服务队', ARRAY['elder_care','errands','mediation']::varchar[]),
                   ('邻里互助队', ARRAY['repair','cleaning','companionship']::varchar[])) t(suffix, skills);

INSERT INTO volunteer (team_id, name, phone, skills, availability, synthetic)
SELECT t.id,
       (ARRAY['王','李','张','刘','陈','杨','赵','黄','周','吴','徐','孙','马','朱','胡'])[1 + floor(random() * 15)::int]
         || (ARRAY['志强','秀兰','海燕','建国','丽娟','红梅','立新','春华','晓东','玉琴'])[1 + floor(random() * 10)::int],
       '137' || lpad(floor(random() * 1e8)::bigint::text, 8, '0'),
       (SELECT array_agg(code ORDER BY code)::varchar[] FROM (
          SELECT code FROM volunteer_skill ORDER BY random() + s.k * 0 LIMIT 1 + floor(random() * 3)::int) x),
       (ARRAY['工作日晚上','周末全天','周六上午','随时可联系','工作日白天'])[1 + floor(random() * 5)::int],
       true
FROM volunteer_team t
CROSS JOIN LATERAL generate_series(1, 8 + floor(random() * 7)::int) s(k)
WHERE t.synthetic;

UPDATE volunteer_team t SET leader_id = v.id
FROM (SELECT DISTINCT ON (team_id) team_id, id FROM volunteer WHERE synthetic
      ORDER BY team_id, id) v
WHERE v.team_id = t.id;
