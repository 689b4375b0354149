-- A community's volunteers with their tasks done, hours and points (best first).
SELECT v.id, v.team_id, t.name AS team, v.name, v.phone, v.skills, v.availability, v.active,
       count(k.id) AS tasks_done, coalesce(sum(k.hours), 0) AS hours,
       coalesce(sum(k.points), 0) AS points
FROM volunteer v
JOIN volunteer_team t ON t.id = v.team_id
LEFT JOIN volunteer_task k ON k.volunteer_id = v.id AND k.state = 'done'
WHERE t.community_code = :community
GROUP BY v.id, t.id
ORDER BY points DESC, v.id
