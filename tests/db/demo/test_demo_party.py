"""Demo Party organisation and volunteers on a real PostGIS (written in the test's transaction:
the test database is loaded without history, so without them): Shenhe's counts for its grids, every
household an existing party_household person enrolled in its building's grid, two teams per
community, and tasks in every state whose points follow the rule."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.demo.services.care import write_demo_care
from gridmap.demo.services.cases import write_demo_cases
from gridmap.demo.services.volunteers import write_demo_party, write_demo_tasks


def test_the_party_organisation_has_shenhes_proportions(db_session: Session) -> None:
    counts = write_demo_party(db_session, seed=11)
    facts = db_session.execute(text("""
        SELECT (SELECT count(*) FROM grid) AS grids,
               (SELECT count(*) FROM community) AS communities,
               (SELECT count(*) FROM party_branch WHERE synthetic) AS branches,
               (SELECT count(*) FROM party_group WHERE synthetic) AS groups,
               (SELECT count(*) FROM party_household WHERE synthetic) AS households,
               (SELECT count(*) FROM grid g WHERE NOT EXISTS (
                  SELECT 1 FROM party_branch_grid x WHERE x.grid_code = g.code)) AS no_branch,
               (SELECT count(*) FROM party_household h JOIN person p ON p.id = h.person_id
                WHERE p.role <> 'party_household') AS not_party,
               (SELECT count(*) FROM party_household h JOIN building b ON b.id = h.building_id
                WHERE NOT EXISTS (SELECT 1 FROM grid_member m WHERE m.person_id = h.person_id
                                  AND m.grid_code = b.grid_code AND m.role = 'party_household'))
                 AS not_enrolled,
               (SELECT count(*) FROM party_household h JOIN party_group g ON g.id = h.group_id
                WHERE g.building_id <> h.building_id) AS elsewhere,
               (SELECT min(n) FROM (SELECT count(*) AS n FROM volunteer_team
                                    GROUP BY community_code) t) AS min_teams,
               (SELECT count(*) FROM volunteer_team WHERE leader_id IS NULL) AS leaderless
        """)).mappings().one()
    scale = facts["grids"] / 1439
    assert abs(facts["branches"] - 959 * scale) <= 0.03 * 959 * scale, facts
    assert abs(facts["groups"] - 1822 * scale) <= 0.03 * 1822 * scale, facts
    assert abs(facts["households"] - 2083 * scale) <= 0.05 * 2083 * scale, facts
    assert facts["no_branch"] == 0 and facts["not_party"] == 0
    assert facts["not_enrolled"] == 0 and facts["elsewhere"] == 0
    assert facts["min_teams"] == 2 and facts["leaderless"] == 0
    assert counts["party_household"] == facts["households"]


def test_demo_tasks_in_every_state_earn_points_by_the_rule(db_session: Session) -> None:
    write_demo_party(db_session, seed=3)
    write_demo_cases(db_session, count=600, seed=3)
    write_demo_care(db_session, seed=3, now=datetime.now(UTC))
    counts = write_demo_tasks(db_session, seed=3)
    assert counts["volunteer_task"] > 10
    rows = db_session.execute(text("""
        SELECT state, count(*) AS n,
               count(*) FILTER (WHERE state = 'done' AND points <> 5 + round(hours * 10))
                 AS wrong_points,
               count(*) FILTER (WHERE left(k.grid_code, 12) <> t.community_code) AS elsewhere
        FROM volunteer_task k JOIN volunteer_team t ON t.id = k.team_id
        GROUP BY state""")).mappings().all()
    by_state = {r["state"]: r for r in rows}
    assert set(by_state) == {"open", "accepted", "done", "cancelled"}, by_state
    assert all(r["wrong_points"] == 0 and r["elsewhere"] == 0 for r in rows)
