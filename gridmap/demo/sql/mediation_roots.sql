-- Synthetic disputes (issue 13 item 3), first step: about :per_community disputes a year per
-- community (0 to twice that), accepted at the community's point over the last 365 days by a
-- grid worker of the community, each with an applicant and a respondent. Names, phones and
-- addresses are made up; every row is flagged synthetic. The caller seeds random() first.
INSERT INTO dispute (point_id, community_code, kind, summary, state, created_at, created_by,
                     accepted_at, accepted_by, synthetic)
SELECT p.facility_id, c.code, k.kind, k.summary, 'accepted', t.at, w.person_id, t.at,
       w.person_id, true
FROM community c
JOIN mediation_point p ON p.area_code = c.code
CROSS JOIN LATERAL (
  SELECT m.person_id FROM grid_member m JOIN grid g ON g.code = m.grid_code
  WHERE g.community_code = c.code AND m.role = 'grid_worker'
  ORDER BY m.grid_code LIMIT 1) w
CROSS JOIN LATERAL generate_series(1, floor(random() * (2 * :per_community + 1))::int
                                      + (length(c.code) * 0)) s
CROSS JOIN LATERAL (
  SELECT CAST(:now AS timestamptz) - random() * interval '365 days' - interval '1 hour'
         + (s * interval '0 seconds') AS at, random() AS r) t
CROSS JOIN LATERAL (
  SELECT (ARRAY['neighbour','neighbour','neighbour','property','property','family','tenancy',
                'debt','labour','other'])[1 + floor(t.r * 10)::int] AS kind) k0
CROSS JOIN LATERAL (
  SELECT k0.kind, CASE k0.kind
    WHEN 'neighbour' THEN (ARRAY['楼上漏水殃及楼下，双方就维修费用分担产生争议',
                                 '邻居在楼道堆放杂物，多次协商未果',
                                 '楼上夜间噪音扰民，邻里关系紧张',
                                 '相邻车位占用引发口角'])[1 + floor(random() * 4)::int]
    WHEN 'property' THEN (ARRAY['业主与物业公司就物业费和维修责任产生纠纷',
                                '小区停车管理收费争议'])[1 + floor(random() * 2)::int]
    WHEN 'family' THEN '子女就老人赡养费用分担产生家庭矛盾'
    WHEN 'tenancy' THEN '租客与房东就押金退还产生争议'
    WHEN 'debt' THEN '邻里之间小额借款到期未还'
    WHEN 'labour' THEN '装修工人与业主就工钱结算产生争议'
    ELSE '宠物伤人赔偿协商' END AS summary) k;

INSERT INTO dispute_party (dispute_id, role, name, phone, address, sort)
SELECT d.id, r.role,
       (ARRAY['王','李','张','刘','陈','杨','赵','黄','周','吴','徐','孙','马','朱','胡'])[1 + floor(random() * 15)::int]
         || (ARRAY['建国','秀兰','志强','丽娟','德福','海燕','国华','春梅','永胜','淑芬'])[1 + floor(random() * 10)::int],
       '13' || (5 + floor(random() * 5))::int || lpad(floor(random() * 1e8)::bigint::text, 8, '0'),
       c.name || (1 + floor(random() * 30))::int || '号楼' || (1 + floor(random() * 6))::int
         || '单元' || (1 + floor(random() * 6))::int || '0' || (1 + floor(random() * 4))::int,
       r.sort
FROM dispute d
JOIN community c ON c.code = d.community_code
CROSS JOIN (VALUES ('applicant', 0), ('respondent', 1)) AS r(role, sort)
WHERE d.synthetic AND d.referred_from IS NULL;
