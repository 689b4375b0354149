-- Synthetic disputes, last step: each dispute's history from its rows (created, accepted after
-- a referral, each session, the outcome), in time order.
INSERT INTO dispute_event (dispute_id, action, from_state, to_state, actor_id, payload,
                           created_at, note)
SELECT d.id, 'create', NULL, CASE WHEN d.referred_from IS NULL THEN 'accepted' ELSE 'pending' END,
       d.created_by,
       CASE WHEN d.referred_from IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('from_dispute', d.referred_from) END, d.created_at, ''
FROM dispute d WHERE d.synthetic
UNION ALL
SELECT d.id, 'accept', 'pending', 'accepted', d.accepted_by, '{}', d.accepted_at, ''
FROM dispute d WHERE d.synthetic AND d.referred_from IS NOT NULL AND d.accepted_at IS NOT NULL
UNION ALL
SELECT s.dispute_id, 'session',
       CASE WHEN row_number() OVER (PARTITION BY s.dispute_id ORDER BY s.recorded_at, s.id) = 1
            THEN 'accepted' ELSE 'in_mediation' END, 'in_mediation', s.recorded_by,
       jsonb_build_object('session_id', s.id), s.recorded_at, ''
FROM dispute_session s WHERE s.synthetic
UNION ALL
SELECT d.id, CASE d.state WHEN 'agreed' THEN 'agree' WHEN 'referred_up' THEN 'refer_up'
                          ELSE 'refer_court' END,
       CASE WHEN EXISTS (SELECT 1 FROM dispute_session s WHERE s.dispute_id = d.id)
            THEN 'in_mediation' ELSE 'accepted' END, d.state, d.accepted_by,
       CASE WHEN d.state = 'referred_up'
            THEN jsonb_build_object('to_dispute', (SELECT c.id FROM dispute c
                                                   WHERE c.referred_from = d.id))
            ELSE '{}'::jsonb END, d.closed_at, d.outcome_note
FROM dispute d WHERE d.synthetic AND d.closed_at IS NOT NULL
ORDER BY 7, 1;
