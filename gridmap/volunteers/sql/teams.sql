-- A community's teams with their leader, size, done tasks, hours and points (best first).
SELECT t.id, t.name, t.skills, t.community_code, l.name AS leader, l.phone AS leader_phone,
       (SELECT count(*) FROM volunteer v WHERE v.team_id = t.id AND v.active) AS volunteers,
       count(k.id) AS tasks_done, coalesce(sum(k.hours), 0) AS hours,
       coalesce(sum(k.points), 0) AS points
FROM volunteer_team t
LEFT JOIN volunteer l ON l.id = t.leader_id
LEFT JOIN volunteer_task k ON k.team_id = t.id AND k.state = 'done'
WHERE t.community_code = :community
GROUP BY t.id, l.id
ORDER BY points DESC, t.id
