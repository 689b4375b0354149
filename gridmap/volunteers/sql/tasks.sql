-- A community's tasks (newest first), with team, volunteer and what they came from.
SELECT k.id, k.team_id, t.name AS team, k.case_id, k.visit_id, k.grid_code, k.title, k.detail,
       k.state, k.published_at, pb.name AS published_by, k.volunteer_id, v.name AS volunteer,
       k.accepted_at, k.done_at, k.hours, k.points, k.note
FROM volunteer_task k
JOIN volunteer_team t ON t.id = k.team_id
JOIN person pb ON pb.id = k.published_by
LEFT JOIN volunteer v ON v.id = k.volunteer_id
WHERE t.community_code = :community
  AND (CAST(:state AS text) IS NULL OR k.state = CAST(:state AS text))
ORDER BY k.published_at DESC, k.id DESC
LIMIT :limit
