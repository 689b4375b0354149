-- Synthetic disputes, one round per level (:level, finest first): sessions for the disputes
-- accepted there (one in ten of the last 20 days' not yet), the outcome of those whose last session is a day
-- old (agreed, referred up or to court at the level's rates, the rest still in mediation),
-- and each referral opened at the next level's point (accepted a day or two later, or still
-- pending when that is yet to come), with the parties copied.
INSERT INTO dispute_session (dispute_id, held_on, mediators, note, recorded_by, recorded_at,
                             synthetic)
SELECT d.id, s.held::date,
       CAST(CASE d.id % 4 WHEN 0 THEN ARRAY['调解员 刘淑华']
                          WHEN 1 THEN ARRAY['调解员 王德明', '楼长 赵桂芝']
                          WHEN 2 THEN ARRAY['司法所 陈志刚', '调解员 孙丽']
                          ELSE ARRAY['老党员 周国庆'] END AS varchar[]),
       (ARRAY['双方陈述事实，调解员释法明理','双方同意再次协商','现场查看后提出调解方案',
              '邀请楼长和老党员参与评理'])[1 + floor(random() * 4)::int],
       d.accepted_by, s.held, true
FROM dispute d
JOIN mediation_point p ON p.facility_id = d.point_id AND p.level = :level
CROSS JOIN LATERAL generate_series(1, 1 + (d.id % 3)::int) n
CROSS JOIN LATERAL (
  SELECT least(d.accepted_at + n * (interval '1 day' + random() * interval '5 days'),
               CAST(:now AS timestamptz) - interval '1 hour') AS held) s
WHERE d.synthetic AND d.state = 'accepted'
  AND (d.id % 10 <> 7 OR d.accepted_at < CAST(:now AS timestamptz) - interval '20 days')
  AND d.accepted_at < CAST(:now AS timestamptz) - interval '2 days';

UPDATE dispute d SET state = 'in_mediation'
FROM mediation_point p
WHERE p.facility_id = d.point_id AND p.level = :level AND d.synthetic AND d.state = 'accepted'
  AND EXISTS (SELECT 1 FROM dispute_session s WHERE s.dispute_id = d.id);

UPDATE dispute d
SET state = o.state, closed_at = o.closed_at,
    outcome_note = CASE o.state
      WHEN 'agreed' THEN '双方达成调解协议，当场履行'
      WHEN 'referred_up' THEN '本级调解未果，上交上一级评理说事点'
      ELSE '调解不成，引导当事人依法诉讼' END
FROM (
  SELECT x.id, least(x.last + interval '1 day' + random() * interval '2 days',
                     CAST(:now AS timestamptz)) AS closed_at,
         CASE WHEN x.r < :agree THEN 'agreed'
              WHEN x.r < :agree + :up THEN 'referred_up'
              WHEN x.r < :agree + :up + :court THEN 'referred_to_court' END AS state
  FROM (
    SELECT d2.id, random() AS r,
           (SELECT max(s.recorded_at) FROM dispute_session s WHERE s.dispute_id = d2.id) AS last
    FROM dispute d2 JOIN mediation_point p ON p.facility_id = d2.point_id AND p.level = :level
    WHERE d2.synthetic AND d2.state = 'in_mediation') x
  WHERE x.last < CAST(:now AS timestamptz) - interval '1 day') o
WHERE d.id = o.id AND o.state IS NOT NULL;

INSERT INTO dispute (point_id, community_code, kind, summary, state, case_id, referred_from,
                     created_at, created_by, accepted_at, accepted_by, synthetic)
SELECT up.facility_id, d.community_code, d.kind, d.summary,
       CASE WHEN a.at < CAST(:now AS timestamptz) THEN 'accepted' ELSE 'pending' END,
       d.case_id, d.id, d.closed_at, d.accepted_by,
       CASE WHEN a.at < CAST(:now AS timestamptz) THEN a.at END,
       CASE WHEN a.at < CAST(:now AS timestamptz) THEN d.accepted_by END, true
FROM dispute d
JOIN mediation_point p ON p.facility_id = d.point_id AND p.level = :level
JOIN mediation_point up ON up.area_code = left(p.area_code, :up_width)
CROSS JOIN LATERAL (SELECT d.closed_at + interval '1 day' + random() * interval '1 day' AS at) a
WHERE d.synthetic AND d.state = 'referred_up'
  AND NOT EXISTS (SELECT 1 FROM dispute c WHERE c.referred_from = d.id);

INSERT INTO dispute_party (dispute_id, role, name, phone, address, sort)
SELECT c.id, x.role, x.name, x.phone, x.address, x.sort
FROM dispute c JOIN dispute_party x ON x.dispute_id = c.referred_from
WHERE c.synthetic AND NOT EXISTS (SELECT 1 FROM dispute_party y WHERE y.dispute_id = c.id);
