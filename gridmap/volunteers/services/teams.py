"""Volunteer teams and volunteers of a community: the page's view (full for staff over the
community, masked for everyone else), new teams and volunteers, the ranking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from gridmap.volunteers import rules
from gridmap.volunteers.repositories import volunteers as repo

OPEN_TASKS_SHOWN = 100
_NO_COMMUNITY = "未找到该社区 (no such community)"


@dataclass(frozen=True)
class TeamRequest:
    """A new team as typed by community staff."""

    community_code: str
    name: str
    skills: Sequence[str] = ()


@dataclass(frozen=True)
class VolunteerRequest:
    """A new volunteer of a team."""

    name: str
    phone: str = ""
    skills: Sequence[str] = ()
    availability: str = ""
    leader: bool = False


def staff_role(principal: Principal) -> Principal:
    """``principal`` if their role works with volunteers (where is checked per community).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For roles that never work with volunteers.
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not rules.is_staff(principal):
        raise Forbidden("您的岗位不能管理志愿者 (your role does not work with volunteers)")
    return principal


def staff_over(principal: Principal, community_code: str) -> Principal:
    """``principal`` if they work this community's volunteers.

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For roles that never work with volunteers.
    NotFound
        Staff of another territory (the community is not theirs to see).
    """
    staff_role(principal)
    if not rules.sees_community(principal, community_code):
        raise NotFound("未找到该社区或不在您的辖区内 (no such community in your scope)")
    return principal


def reference(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Skills, task states, the points rule in force and the limits (no person)."""
    with factory() as session:
        rule = repo.points_rule(session, datetime.now(UTC).date())
        return {"skills": repo.skills(session), "states": list(rules.STATES),
                "points_rule": {"valid_from": rule["valid_from"].isoformat(),
                                "points_per_hour": float(rule["points_per_hour"]),
                                "points_per_task": rule["points_per_task"],
                                "max_hours": float(rule["max_hours"])},
                "small_count": rules.SMALL_COUNT}


def _number(value: Any) -> float:
    return float(value or 0)


def _public_volunteer(v: dict[str, Any]) -> dict[str, Any]:
    return {"team_id": v["team_id"], "team": v["team"], "name": rules.mask_name(v["name"]),
            "points": int(v["points"]), "hours": _number(v["hours"])}


def community_view(factory: sessionmaker[Session], principal: Principal,
                   community: str) -> dict[str, Any]:
    """A community's teams, volunteers, open tasks and ranking.

    Staff over the community see names, phones, availability and the tasks; everyone else
    the teams (leader masked), the team ranking and the volunteers' ranking with masked names.
    """
    code = codes.parse(community, codes.Level.COMMUNITY, field="community")
    full = rules.sees_community(principal, code)
    with factory() as session:
        found = repo.community(session, code)
        if found is None:
            raise NotFound(_NO_COMMUNITY)
        teams = repo.teams(session, code)
        people = repo.volunteers(session, code)
        tasks = repo.tasks(session, code, None, OPEN_TASKS_SHOWN) if full else []
    for t in teams:
        t.update(points=int(t["points"]), hours=_number(t["hours"]),
                 tasks_done=int(t["tasks_done"]), volunteers=int(t["volunteers"]))
        if not full:
            t["leader"] = rules.mask_name(t["leader"] or "")
            t.pop("leader_phone")
    ranking = [p for p in people if p["active"]][:rules.RANKING_SIZE]
    answer: dict[str, Any] = {
        "community": found, "full": full, "teams": teams,
        "ranking": {"teams": [{"id": t["id"], "name": t["name"], "points": t["points"],
                               "hours": t["hours"]} for t in teams],
                    "volunteers": [_public_volunteer(p) if not full else
                                   {**_public_volunteer(p), "id": p["id"], "name": p["name"]}
                                   for p in ranking]}}
    if full:
        for p in people:
            p.update(points=int(p["points"]), hours=_number(p["hours"]),
                     tasks_done=int(p["tasks_done"]))
        for k in tasks:
            k["hours"] = None if k["hours"] is None else float(k["hours"])
        answer.update(volunteers=people, tasks=tasks)
    return answer


def skill_codes(session: Session, raw: Sequence[str], field: str) -> list[str]:
    """``raw`` as known skill codes (at most :data:`rules.MAX_SKILLS`); InvalidInput else."""
    known = {s["code"] for s in repo.skills(session)}
    chosen = list(dict.fromkeys(s.strip() for s in raw if s.strip()))
    if len(chosen) > rules.MAX_SKILLS or any(s not in known for s in chosen):
        raise InvalidInput(f"{field} 须为至多 {rules.MAX_SKILLS} 个技能代码，可选："
                           f"{', '.join(sorted(known))} ({field} must be up to "
                           f"{rules.MAX_SKILLS} known skill codes)", fields={field: "invalid"})
    return chosen


def create_team(factory: sessionmaker[Session], principal: Principal,
                request: TeamRequest) -> dict[str, Any]:
    """A new team of a community (staff over it).

    Raises
    ------
    InvalidInput
        No name, one too long, unknown skills.
    Conflict
        The community has a team of that name.
    """
    staff_role(principal)
    code = codes.parse(request.community_code, codes.Level.COMMUNITY, field="community_code")
    staff_over(principal, code)
    name = request.name.strip()
    if not name or len(name) > rules.MAX_TEAM_NAME:
        raise InvalidInput(f"请填写队伍名称（最多 {rules.MAX_TEAM_NAME} 字） (name is required, "
                           f"at most {rules.MAX_TEAM_NAME} characters)", fields={"name": "invalid"})
    with unit_of_work(factory) as session:
        if repo.community(session, code) is None:
            raise NotFound(_NO_COMMUNITY)
        skills = skill_codes(session, request.skills, "skills")
        if (code, name) in repo.teams_by_name(session, [code]):
            raise Conflict("该社区已有同名队伍 (the community has a team of that name)")
        team_id = repo.insert_team(session, {"community_code": code, "name": name,
                                             "skills": skills})
    return {"id": team_id, "community_code": code, "name": name, "skills": skills}


def _volunteer_problems(request: VolunteerRequest) -> dict[str, str]:
    problems: dict[str, str] = {}
    name = request.name.strip()
    if not name or len(name) > rules.MAX_NAME:
        problems["name"] = (f"请填写姓名（最多 {rules.MAX_NAME} 字） (name is required, at most "
                            f"{rules.MAX_NAME} characters)")
    phone = request.phone.strip()
    if len(phone) > rules.MAX_PHONE or rules.check_phone(phone):
        problems["phone"] = "手机号格式不正确 (not a phone number)"
    if len(request.availability.strip()) > rules.MAX_AVAILABILITY:
        problems["availability"] = (f"服务时间最多 {rules.MAX_AVAILABILITY} 字 (availability "
                                    f"longer than {rules.MAX_AVAILABILITY} characters)")
    return problems


def add_volunteer(factory: sessionmaker[Session], principal: Principal, team_id: int,
                  request: VolunteerRequest) -> dict[str, Any]:
    """A new volunteer of a team (staff over its community), optionally its leader.

    Raises
    ------
    InvalidInput
        Every problem of the request at once.
    NotFound
        No such team in the principal's scope.
    Conflict
        The team has this volunteer (same name and phone) already.
    """
    staff_role(principal)
    problems = _volunteer_problems(request)
    if problems:
        raise InvalidInput("；".join(problems.values()), fields=problems)
    with unit_of_work(factory) as session:
        team = repo.team(session, team_id)
        if team is None or not rules.sees_community(principal, team["community_code"]):
            raise NotFound("未找到该志愿队伍 (no such volunteer team)")
        skills = skill_codes(session, request.skills, "skills")
        name, phone = request.name.strip(), request.phone.strip()
        if repo.volunteer_id(session, team_id, name, phone) is not None:
            raise Conflict("该队伍已有此志愿者 (the team has this volunteer already)")
        new_id = repo.insert_volunteer(session, {
            "team_id": team_id, "name": name, "phone": phone, "skills": skills,
            "availability": request.availability.strip()})
        if request.leader:
            repo.set_leader(session, team_id, new_id)
    return {"id": new_id, "team_id": team_id, "name": name, "leader": request.leader}
