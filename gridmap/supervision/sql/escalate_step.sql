-- One step of escalation (督办), set-based: for every open case past a deadline, the first
-- active rule due at the level it is supervised at (grid until a first notice) gives a notice;
-- in the same statement, a case event (no actor: the system's), an inbox item for each
-- recipient (the owner and the next level's staff) and an outbox row per recipient.
-- Idempotent: a notice is unique per case and rule (ON CONFLICT DO NOTHING), and what follows
-- is built only from the notices this statement inserted. The caller repeats the step until
-- it inserts nothing, so a long-overdue case climbs the chain (see escalation.due_rules).
WITH levels(level, rank, role) AS (
  VALUES ('grid', 0, NULL), ('community', 1, 'community_staff'),
         ('subdistrict', 2, 'subdistrict_staff'), ('district', 3, 'district_centre')
), current AS (
  SELECT c.id, c.state, c.grid_code, c.community_code, c.subdistrict_code, c.district_code,
         c.owner_kind, c.owner_department, c.owner_person_id,
         c.respond_by, c.resolve_by, c.responded_at, c.resolved_at,
         COALESCE((SELECT n.level FROM supervision_notice n JOIN levels l ON l.level = n.level
                   WHERE n.case_id = c.id ORDER BY l.rank DESC LIMIT 1), 'grid') AS level
  FROM "case" c
  WHERE c.state <> ALL (CAST(:inactive_states AS text[]))
    AND ((c.responded_at IS NULL AND c.respond_by < CAST(:now AS timestamptz))
         OR (c.resolved_at IS NULL AND c.resolve_by < CAST(:now AS timestamptz)))
), due AS (
  SELECT DISTINCT ON (cur.id) cur.*, r.id AS rule_id, r.code AS rule_code, r.deadline,
         r.to_level,
         CASE r.deadline WHEN 'respond' THEN cur.respond_by ELSE cur.resolve_by END AS due_at
  FROM current cur
  JOIN supervision_rule r ON r.active AND r.from_level = cur.level
  WHERE NOT EXISTS (SELECT 1 FROM supervision_notice n
                    WHERE n.case_id = cur.id AND n.rule_id = r.id)
    AND CASE r.deadline
          WHEN 'respond' THEN cur.responded_at IS NULL
               AND CAST(:now AS timestamptz) > cur.respond_by + make_interval(secs => r.after_hours * 3600)
          ELSE cur.resolved_at IS NULL
               AND CAST(:now AS timestamptz) > cur.resolve_by + make_interval(secs => r.after_hours * 3600)
        END
  ORDER BY cur.id, r.sort_order, r.id
), addressed AS (
  SELECT d.*,
         ARRAY(
           SELECT DISTINCT p FROM unnest(
             CASE
               WHEN d.owner_person_id IS NOT NULL THEN ARRAY[d.owner_person_id]
               WHEN d.owner_kind = 'department' THEN ARRAY(
                 SELECT e.person_id FROM grid_enrollment e
                 WHERE e.grid_code = grid_current(d.grid_code)
                   AND e.department_code = d.owner_department)
               ELSE ARRAY(
                 SELECT m.person_id FROM grid_member m
                 WHERE m.grid_code = grid_current(d.grid_code) AND m.role = 'grid_worker')
             END
             || ARRAY(
               SELECT a.person_id FROM account a JOIN levels l ON l.role = a.role
               WHERE a.active AND l.level = d.to_level
                 AND a.area_code = CASE d.to_level WHEN 'community' THEN d.community_code
                                                   WHEN 'subdistrict' THEN d.subdistrict_code
                                                   ELSE d.district_code END)
           ) AS p WHERE p IS NOT NULL ORDER BY p) AS recipients
  FROM due d
), notice AS (
  INSERT INTO supervision_notice (case_id, rule_id, level, deadline, due_at, recipients,
                                  created_at)
  SELECT a.id, a.rule_id, a.to_level, a.deadline, a.due_at, a.recipients, CAST(:now AS timestamptz)
  FROM addressed a
  ON CONFLICT (case_id, rule_id) DO NOTHING
  RETURNING id, case_id, rule_id, level, deadline, recipients
), said AS (
  SELECT n.*, a.state, a.rule_code,
         format(CAST(:text AS text), n.case_id, CAST(:deadline_zh AS jsonb) ->> n.deadline,
                CAST(:level_zh AS jsonb) ->> n.level, CAST(:deadline_en AS jsonb) ->> n.deadline,
                CAST(:level_en AS jsonb) ->> n.level) AS text
  FROM notice n JOIN addressed a ON a.id = n.case_id AND a.rule_id = n.rule_id
), event AS (
  INSERT INTO case_event (case_id, action, from_state, to_state, actor_id, note, payload,
                          created_at)
  SELECT s.case_id, 'supervise', s.state, s.state, NULL, s.text,
         jsonb_build_object('notice', s.id, 'rule', s.rule_code, 'level', s.level,
                            'deadline', s.deadline, 'recipients', to_jsonb(s.recipients)),
         CAST(:now AS timestamptz)
  FROM said s
  RETURNING id
), inbox AS (
  INSERT INTO inbox_item (person_id, kind, case_id, text, dedupe_key, created_at)
  SELECT p, 'supervision', s.case_id, s.text, 'supervision:' || s.id || ':' || p, CAST(:now AS timestamptz)
  FROM said s CROSS JOIN LATERAL unnest(s.recipients) AS p
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id
), outbox AS (
  INSERT INTO notification_outbox (channel, recipient, payload, dedupe_key, next_attempt_at,
                                   created_at)
  SELECT CAST(:channel AS text),
         CASE CAST(:channel AS text) WHEN 'email' THEN acc.email ELSE 'person:' || p END,
         jsonb_build_object('subject', s.text, 'body', s.text, 'case_id', s.case_id,
                            'person_id', p, 'kind', 'supervision'),
         CAST(:channel AS text) || ':supervision:' || s.id || ':' || p, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
  FROM said s CROSS JOIN LATERAL unnest(s.recipients) AS p
  LEFT JOIN account acc ON acc.person_id = p AND acc.active
  WHERE CAST(:channel AS text) <> 'email' OR acc.email IS NOT NULL
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id
)
SELECT (SELECT count(*) FROM notice) AS notices, (SELECT count(*) FROM event) AS events,
       (SELECT count(*) FROM inbox) AS inbox_items, (SELECT count(*) FROM outbox) AS queued
