-- A point's disputes (open first, newest first), optionally of one state, with their parties
-- (as JSON, masked by the service unless the reader may see them), mediators, sessions held
-- and where a referral went.
SELECT d.id, d.kind, d.state, d.summary, d.community_code, c.name AS community_name,
       d.case_id, d.referred_from, up.id AS referred_to, d.created_at, d.accepted_at,
       d.closed_at, d.outcome_note,
       (SELECT count(*) FROM dispute_session s WHERE s.dispute_id = d.id) AS sessions,
       (SELECT max(s.held_on) FROM dispute_session s WHERE s.dispute_id = d.id) AS last_session,
       coalesce((SELECT json_agg(json_build_object('role', p.role, 'name', p.name,
                                                   'phone', p.phone, 'address', p.address)
                                 ORDER BY p.sort, p.id)
                 FROM dispute_party p WHERE p.dispute_id = d.id), '[]') AS parties,
       coalesce((SELECT array_agg(m.person_id) FROM dispute_mediator m
                 WHERE m.dispute_id = d.id), '{}') AS mediator_ids
FROM dispute d
LEFT JOIN community c ON c.code = d.community_code
LEFT JOIN dispute up ON up.referred_from = d.id
WHERE d.point_id = :point_id AND (:state = '' OR d.state = :state)
ORDER BY d.state IN ('agreed', 'referred_up', 'referred_to_court'), d.created_at DESC, d.id DESC
LIMIT :limit
