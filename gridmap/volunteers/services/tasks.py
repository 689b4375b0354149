"""Tasks (任务发布): a case or a care visit's need handed to a volunteer team, accepted by one of
its volunteers, recorded as done with hours that earn points, or cancelled.

Volunteers hold no account: the staff over the task's grid (its grid worker, community,
sub-district and district staff) record each step on a volunteer's behalf, as a team leader
phoning the community does today. Each step is one transaction that locks the task and moves
it only from the state it was read in, so two people recording at once cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.cases.workflow import State
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from gridmap.volunteers import rules
from gridmap.volunteers.repositories import volunteers as repo
from gridmap.volunteers.services.teams import staff_over

_NO_TASK = "未找到该任务 (no such task)"


@dataclass(frozen=True)
class TaskRequest:
    """A task to publish: the team, exactly one of a case or a visit, a title and detail."""

    team_id: int | None
    case_id: int | None
    visit_id: int | None
    title: str
    detail: str = ""


def _staff(principal: Principal) -> Principal:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not rules.is_staff(principal):
        raise Forbidden("您的岗位不能发布或登记志愿任务 (your role does not publish or record "
                        "volunteer tasks)")
    if principal.person_id is None:
        raise Forbidden("此账号未关联人员，不能登记 (this account is no person and cannot record)")
    return principal


def _request_problems(request: TaskRequest) -> dict[str, str]:
    problems: dict[str, str] = {}
    if request.team_id is None:
        problems["team_id"] = "请选择志愿队伍 (team_id is required)"
    if (request.case_id is None) == (request.visit_id is None):
        problems["case_id"] = ("请指定一个案件或一次走访 (give exactly one of case_id and "
                               "visit_id)")
    title = request.title.strip()
    if not title or len(title) > rules.MAX_TITLE:
        problems["title"] = (f"请填写任务标题（最多 {rules.MAX_TITLE} 字） (title is required, at "
                             f"most {rules.MAX_TITLE} characters)")
    if len(request.detail) > rules.MAX_TEXT:
        problems["detail"] = f"任务说明最多 {rules.MAX_TEXT} 字 (detail too long)"
    return problems


def _source_grid(session: Session, principal: Principal, request: TaskRequest) -> str:
    """The grid of the task's case or visit, if the principal is staff over it."""
    if request.case_id is not None:
        case = repo.case_source(session, request.case_id)
        if case is None or not rules.sees_grid(principal, case["grid_code"]):
            raise NotFound("未找到该案件或不在您的辖区内 (no such case in your scope)")
        if case["state"] in (State.CLOSED, State.CANCELLED):
            raise Conflict("案件已办结，不能再发布任务 (the case is closed)")
        return str(case["grid_code"])
    assert request.visit_id is not None
    visit = repo.visit_source(session, request.visit_id)
    if visit is None or not rules.sees_grid(principal, visit["grid_code"]):
        raise NotFound("未找到该走访记录或不在您的辖区内 (no such visit in your scope)")
    if not visit["needs_help"]:
        raise InvalidInput("该次走访未发现需要帮助的情况 (the visit found no need)",
                           fields={"visit_id": "no need"})
    return str(visit["grid_code"])


def publish(factory: sessionmaker[Session], principal: Principal,
            request: TaskRequest) -> dict[str, Any]:
    """Hand a case or a visit's need to a team of the same community as an open task.

    Raises
    ------
    InvalidInput
        Every problem of the request; a team of another community.
    NotFound
        The case, visit or team is not in the principal's scope.
    Conflict
        The case or visit has a live task already, or the case is closed.
    """
    who = _staff(principal)
    problems = _request_problems(request)
    if problems:
        raise InvalidInput("；".join(problems.values()), fields=problems)
    assert request.team_id is not None
    with unit_of_work(factory) as session:
        grid = _source_grid(session, who, request)
        team = repo.team(session, request.team_id)
        if team is None or not rules.sees_community(who, team["community_code"]):
            raise NotFound("未找到该志愿队伍 (no such volunteer team)")
        if team["community_code"] != grid[:12]:
            raise InvalidInput("只能发布给本社区的志愿队伍 (a task goes to a team of the same "
                               "community)", fields={"team_id": "other community"})
        live = repo.live_task(session, case_id=request.case_id, visit_id=request.visit_id)
        if live is not None:
            raise Conflict(f"已有未完成的任务 #{live} (a live task #{live} exists already)")
        task_id = repo.insert_task(session, {
            "team_id": request.team_id, "case_id": request.case_id,
            "visit_id": request.visit_id, "grid_code": grid, "title": request.title.strip(),
            "detail": request.detail.strip(), "published_by": who.person_id})
    return {"id": task_id, "state": "open", "team_id": request.team_id, "grid_code": grid}


def _locked(session: Session, principal: Principal, task_id: int) -> dict[str, Any]:
    task = repo.task_for_update(session, task_id)
    if task is None or not rules.sees_grid(principal, task["grid_code"]):
        raise NotFound(_NO_TASK)
    return task


def _move(session: Session, task: dict[str, Any], step: str, values: dict[str, Any]) -> str:
    state = rules.next_state(task["state"], step)
    if not repo.update_task(session, task["id"], task["state"], {"state": state, **values}):
        raise Conflict("任务已被他人更新，请刷新 (the task changed meanwhile: reload)")
    return state


def accept(factory: sessionmaker[Session], principal: Principal, task_id: int,
           volunteer_id: int | None) -> dict[str, Any]:
    """Record that a volunteer of the task's team accepted it (open → accepted)."""
    who = _staff(principal)
    if volunteer_id is None:
        raise InvalidInput("请选择接受任务的志愿者 (volunteer_id is required)",
                           fields={"volunteer_id": "required"})
    with unit_of_work(factory) as session:
        task = _locked(session, who, task_id)
        volunteer = repo.volunteer(session, volunteer_id)
        if volunteer is None or volunteer["team_id"] != task["team_id"] or not volunteer["active"]:
            raise InvalidInput("该志愿者不属于接受任务的队伍 (the volunteer is not an active "
                               "member of the task's team)", fields={"volunteer_id": "invalid"})
        state = _move(session, task, "accept", {
            "volunteer_id": volunteer_id, "accepted_at": repo.now(session),
            "recorded_by": who.person_id})
    return {"id": task_id, "state": state, "volunteer_id": volunteer_id}


def complete(factory: sessionmaker[Session], principal: Principal, task_id: int, hours: Any,
             note: str) -> dict[str, Any]:
    """Record an accepted task as done with its hours; the points follow the rule in force."""
    who = _staff(principal)
    if len(note) > rules.MAX_TEXT:
        raise InvalidInput(f"备注最多 {rules.MAX_TEXT} 字 (note too long)", fields={"note": "long"})
    with unit_of_work(factory) as session:
        rule = repo.points_rule(session, datetime.now(UTC).date())
        worked = rules.parse_hours(hours, max_hours=Decimal(rule["max_hours"]))
        points = rules.points_for(worked, per_hour=Decimal(rule["points_per_hour"]),
                                  per_task=int(rule["points_per_task"]))
        task = _locked(session, who, task_id)
        state = _move(session, task, "done", {
            "hours": worked, "points": points, "done_at": repo.now(session),
            "note": note.strip(), "recorded_by": who.person_id})
    return {"id": task_id, "state": state, "hours": float(worked), "points": points}


def cancel(factory: sessionmaker[Session], principal: Principal, task_id: int,
           reason: str) -> dict[str, Any]:
    """Cancel an open or accepted task, with the reason (the case or visit may get a new one)."""
    who = _staff(principal)
    text = reason.strip()
    if not text or len(text) > rules.MAX_TEXT:
        raise InvalidInput("请填写取消原因 (reason is required)", fields={"reason": "required"})
    with unit_of_work(factory) as session:
        task = _locked(session, who, task_id)
        state = _move(session, task, "cancel", {"note": text, "recorded_by": who.person_id})
    return {"id": task_id, "state": state}


def listing(factory: sessionmaker[Session], principal: Principal, community: str,
            state: str | None, limit: int) -> list[dict[str, Any]]:
    """A community's tasks, newest first (staff over the community)."""
    staff_over(principal, codes.parse(community, codes.Level.COMMUNITY, field="community"))
    with factory() as session:
        rows = repo.tasks(session, community, state, limit)
    for row in rows:
        row["hours"] = None if row["hours"] is None else float(row["hours"])
    return rows


def source_community(factory: sessionmaker[Session], principal: Principal, *,
                     case_id: int | None, visit_id: int | None) -> str:
    """The community of a case or visit the principal is staff over ("" otherwise), so the
    page that publishes its task opens on that community's teams."""
    if not rules.is_staff(principal) or (case_id is None and visit_id is None):
        return ""
    with factory() as session:
        found = (repo.case_source(session, case_id) if case_id is not None
                 else repo.visit_source(session, visit_id) if visit_id is not None else None)
    if found is None or not rules.sees_grid(principal, found["grid_code"]):
        return ""
    return str(found["grid_code"])[:12]
