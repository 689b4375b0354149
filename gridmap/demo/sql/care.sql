-- Synthetic care register (issue 13 item 1), set-based, after the territory and its workers:
-- ≈ :share of each building's residents on the register (1-2 reasons each), a year of visits
-- at each entry's rule interval (some entries left overdue), and zero reports for the past
-- 12 months (a few grids late or missing) and the current month (most grids not yet).
-- Names and phones are made up; every row is flagged synthetic. Statements are separated by
-- blank lines; the caller seeds random() first (setseed).
INSERT INTO care_entry (building_id, unit, household, name, phone, carer, created_at,
                        created_by, synthetic)
SELECT b.id, (1 + floor(random() * 6))::int || '单元', (1 + floor(random() * 6))::int || '0'
         || (1 + floor(random() * 4))::int,
       (ARRAY['王','李','张','刘','陈','杨','赵','黄','周','吴','徐','孙','马','朱','胡'])[1 + floor(random() * 15)::int]
         || (ARRAY['桂兰','秀英','淑珍','玉华','凤芝','德明','国庆','建华','振东','宝山'])[1 + floor(random() * 10)::int],
       '139' || lpad(floor(random() * 1e8)::bigint::text, 8, '0'),
       (ARRAY['', '子女每周探望', '邻居照看', '社区助老员'])[1 + floor(random() * 4)::int],
       :now - interval '400 days' + random() * interval '30 days', m.person_id, true
FROM building b
JOIN grid_member m ON m.grid_code = b.grid_code AND m.role = 'grid_worker'
CROSS JOIN LATERAL generate_series(1, floor(b.residents * :share + random())::int) s
WHERE b.residents > 0;

INSERT INTO care_entry_reason (entry_id, reason)
SELECT id, (ARRAY['living_alone','empty_nest','aged_80_plus','disabled','low_income',
                  'left_behind_child','empty_nest','aged_80_plus'])[1 + (id * 7 + 3) % 8]
FROM care_entry WHERE synthetic
UNION
SELECT id, 'aged_80_plus' FROM care_entry WHERE synthetic AND id % 4 = 0
UNION
SELECT id, 'living_alone' FROM care_entry WHERE synthetic AND id % 5 = 0;

-- Visits from the entry's start to now at its interval with a day or two of jitter; one entry
-- in 25 has its last visits missing, so it is overdue.
INSERT INTO care_visit (entry_id, visited_at, visitor_id, findings, needs_help, synthetic)
SELECT e.id, t.at, e.created_by,
       (ARRAY['身体状况良好','生活正常','已提醒按时服药','家中暖气正常','情绪稳定'])[1 + floor(random() * 5)::int],
       random() < 0.01, true
FROM care_entry e
CROSS JOIN LATERAL (
  SELECT coalesce(min(r.interval_days), 30) AS days FROM care_rule r
  WHERE r.reasons <@ (SELECT array_agg(x.reason)::varchar[] FROM care_entry_reason x
                      WHERE x.entry_id = e.id)) i
CROSS JOIN LATERAL generate_series(e.created_at + interval '1 day',
                                   :now - CASE WHEN e.id % 25 = 0 THEN interval '60 days'
                                               ELSE interval '0 days' END,
                                   make_interval(days => i.days)) AS t(at)
WHERE e.synthetic AND t.at < :now;

INSERT INTO care_zero_report (grid_code, month, no_new_difficulty, note, submitted_by,
                              submitted_at, synthetic)
SELECT grid_code, month::date, found > 0.05,
       CASE WHEN found > 0.05 THEN '' ELSE '发现新的困难情况，已上报社区' END, person_id,
       least(CAST(:now AS timestamptz), month + interval '1 month' + random() * interval '3 days'
         + CASE WHEN random() < 0.05 THEN interval '10 days' ELSE interval '0 days' END), true
FROM (
  SELECT m.grid_code, m.person_id, mo.month, random() AS found, random() AS sent,
         mo.month < date_trunc('month', CAST(:now AS timestamptz) AT TIME ZONE 'Asia/Shanghai')
           AS past
  FROM grid_member m
  CROSS JOIN generate_series(
    date_trunc('month', CAST(:now AS timestamptz) AT TIME ZONE 'Asia/Shanghai') - interval '12 months',
    date_trunc('month', CAST(:now AS timestamptz) AT TIME ZONE 'Asia/Shanghai'),
    interval '1 month') AS mo(month)
  WHERE m.role = 'grid_worker') r
WHERE (past AND sent > 0.02) OR (NOT past AND sent < 0.3);
