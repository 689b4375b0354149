"""Reads and writes of volunteer teams, volunteers, tasks and the points rule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from gridmap.models import (
    Building,
    CareEntry,
    CareVisit,
    Case,
    Community,
    Volunteer,
    VolunteerPointsRule,
    VolunteerSkill,
    VolunteerTask,
    VolunteerTeam,
)
from gridmap.sqlfiles import sql


def skills(session: Session) -> list[dict[str, Any]]:
    """Every skill in display order."""
    rows = session.execute(select(VolunteerSkill.code, VolunteerSkill.name_zh,
                                  VolunteerSkill.name_en)
                           .order_by(VolunteerSkill.sort, VolunteerSkill.code)).mappings()
    return [dict(r) for r in rows]


def points_rule(session: Session, today: date) -> dict[str, Any]:
    """The points rule in force on ``today`` (the newest one that has started)."""
    row = session.execute(select(VolunteerPointsRule.valid_from,
                                 VolunteerPointsRule.points_per_hour,
                                 VolunteerPointsRule.points_per_task,
                                 VolunteerPointsRule.max_hours)
                          .where(VolunteerPointsRule.valid_from <= today)
                          .order_by(VolunteerPointsRule.valid_from.desc()).limit(1)
                          ).mappings().one()
    return dict(row)


def community(session: Session, code: str) -> dict[str, Any] | None:
    """A community's code and name."""
    row = session.execute(select(Community.code, Community.name)
                          .where(Community.code == code)).mappings().first()
    return None if row is None else dict(row)


def communities(session: Session, codes: Iterable[str]) -> set[str]:
    """Which of ``codes`` are communities."""
    return set(session.execute(select(Community.code)
                               .where(Community.code.in_(sorted(set(codes))))).scalars())


def teams(session: Session, community_code: str) -> list[dict[str, Any]]:
    """The community's teams with leader, size, tasks done, hours and points."""
    return [dict(r) for r in session.execute(sql("volunteers/teams"),
                                             {"community": community_code}).mappings()]


def volunteers(session: Session, community_code: str) -> list[dict[str, Any]]:
    """The community's volunteers with tasks done, hours and points."""
    return [dict(r) for r in session.execute(sql("volunteers/volunteers"),
                                             {"community": community_code}).mappings()]


def tasks(session: Session, community_code: str, state: str | None,
          limit: int) -> list[dict[str, Any]]:
    """The community's tasks, newest first."""
    return [dict(r) for r in session.execute(sql("volunteers/tasks"), {
        "community": community_code, "state": state, "limit": limit}).mappings()]


def team(session: Session, team_id: int) -> dict[str, Any] | None:
    """One team's id, community and name."""
    row = session.execute(select(VolunteerTeam.id, VolunteerTeam.community_code,
                                 VolunteerTeam.name, VolunteerTeam.leader_id)
                          .where(VolunteerTeam.id == team_id)).mappings().first()
    return None if row is None else dict(row)


def teams_by_name(session: Session, community_codes: Iterable[str]) -> dict[tuple[str, str], int]:
    """Existing teams of these communities by (community, name)."""
    rows = session.execute(select(VolunteerTeam.community_code, VolunteerTeam.name,
                                  VolunteerTeam.id)
                           .where(VolunteerTeam.community_code.in_(sorted(set(community_codes)))))
    return {(c, n): int(i) for c, n, i in rows}


def insert_team(session: Session, values: dict[str, Any]) -> int:
    """A new team; its id."""
    return int(session.execute(insert(VolunteerTeam).values(**values)
                               .returning(VolunteerTeam.id)).scalar_one())


def set_leader(session: Session, team_id: int, volunteer_id: int) -> None:
    """Make a volunteer the team's leader."""
    session.execute(update(VolunteerTeam).where(VolunteerTeam.id == team_id)
                    .values(leader_id=volunteer_id))


def volunteer_id(session: Session, team_id: int, name: str, phone: str) -> int | None:
    """The volunteer of the team with this name and phone, if any."""
    return session.execute(select(Volunteer.id).where(
        Volunteer.team_id == team_id, Volunteer.name == name, Volunteer.phone == phone)).scalar()


def insert_volunteer(session: Session, values: dict[str, Any]) -> int:
    """A new volunteer; its id."""
    return int(session.execute(insert(Volunteer).values(**values)
                               .returning(Volunteer.id)).scalar_one())


def update_volunteer(session: Session, volunteer_id: int, values: dict[str, Any]) -> None:
    """Change a volunteer's skills and availability (an import row naming them again)."""
    session.execute(update(Volunteer).where(Volunteer.id == volunteer_id).values(**values))


def volunteer(session: Session, volunteer_id: int) -> dict[str, Any] | None:
    """One volunteer's team and whether they are active."""
    row = session.execute(select(Volunteer.id, Volunteer.team_id, Volunteer.name,
                                 Volunteer.active)
                          .where(Volunteer.id == volunteer_id)).mappings().first()
    return None if row is None else dict(row)


def case_source(session: Session, case_id: int) -> dict[str, Any] | None:
    """A case's grid and state (a task's source)."""
    row = session.execute(select(Case.id, Case.grid_code, Case.state)
                          .where(Case.id == case_id)).mappings().first()
    return None if row is None else dict(row)


def visit_source(session: Session, visit_id: int) -> dict[str, Any] | None:
    """A care visit's grid (its entry's building's) and whether it found a need."""
    row = session.execute(select(CareVisit.id, CareVisit.needs_help, Building.grid_code)
                          .join(CareEntry, CareEntry.id == CareVisit.entry_id)
                          .join(Building, Building.id == CareEntry.building_id)
                          .where(CareVisit.id == visit_id)).mappings().first()
    return None if row is None else dict(row)


def live_task(session: Session, *, case_id: int | None, visit_id: int | None) -> int | None:
    """The id of the case's or visit's task that is not cancelled, if any."""
    source = (VolunteerTask.case_id == case_id if case_id is not None
              else VolunteerTask.visit_id == visit_id)
    return session.execute(select(VolunteerTask.id).where(
        source, VolunteerTask.state != "cancelled")).scalar()


def insert_task(session: Session, values: dict[str, Any]) -> int:
    """A new open task; its id."""
    return int(session.execute(insert(VolunteerTask).values(**values)
                               .returning(VolunteerTask.id)).scalar_one())


def task_for_update(session: Session, task_id: int) -> dict[str, Any] | None:
    """One task with its team's community, locked until the transaction ends."""
    row = session.execute(select(VolunteerTask.id, VolunteerTask.team_id, VolunteerTask.state,
                                 VolunteerTask.grid_code, VolunteerTask.volunteer_id,
                                 VolunteerTeam.community_code)
                          .join(VolunteerTeam, VolunteerTeam.id == VolunteerTask.team_id)
                          .where(VolunteerTask.id == task_id)
                          .with_for_update(of=VolunteerTask)).mappings().first()
    return None if row is None else dict(row)


def update_task(session: Session, task_id: int, expected_state: str,
                values: dict[str, Any]) -> bool:
    """Move a task on from ``expected_state``; False when it was no longer in that state."""
    done = session.execute(update(VolunteerTask)
                           .where(VolunteerTask.id == task_id,
                                  VolunteerTask.state == expected_state)
                           .values(**values).returning(VolunteerTask.id)).first()
    return done is not None


def now(session: Session) -> Any:
    """The transaction's time (what the task's instants record)."""
    return session.execute(select(func.now())).scalar_one()


def scorecard(session: Session, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The volunteer figures of a scorecard level, one row per unit (``volunteers/scorecard``)."""
    return [dict(r) for r in session.execute(sql("volunteers/scorecard"), values).mappings()]
