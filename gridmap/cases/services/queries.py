"""Read side of cases: categories, who may read case rows, a case's detail for the principal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session

from gridmap.access import CASE_ROLES, CaseScope, Principal, Role
from gridmap.cases import deadlines, workflow
from gridmap.cases.privacy import mask_phone
from gridmap.cases.repositories import cases as repo
from gridmap.cases.repositories import scope as scope_repo
from gridmap.cases.services import cases
from gridmap.errors import Forbidden, NotFound, Unauthorized
from gridmap.models import Case
from gridmap.writers import json_safe

READERS = CASE_ROLES | {Role.ADMIN}
"""Who reads case rows (board, exports, map points, detail, photos): the roles that work cases,
each in their scope, and administrators. Planners and data officers see statistics only."""



def categories(session: Session, *, lang: str) -> list[dict[str, Any]]:
    """Active categories with their default departments and deadlines."""
    return [{"code": c.code, "name": c.name_en if lang == "en" else c.name_zh,
             "default_departments": c.default_departments,
             "respond_hours": c.respond_hours, "resolve_hours": c.resolve_hours}
            for c in repo.categories(session)]


def departments(session: Session, *, lang: str) -> list[dict[str, str]]:
    """Every department's code and name, in display order (the pickers search them by name)."""
    return [{"code": code, "name": name}
            for code, name in repo.department_names(session, lang).items()]


def reader_scope(principal: Principal) -> CaseScope:
    """The cases ``principal`` may read, for a role among :data:`READERS`.

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For a signed-in role that reads no case rows (planner, data officer).
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*READERS):
        raise Forbidden("您的岗位不能查看案件明细 (your role cannot see case records)")
    return principal.case_scope()


def readable_case(session: Session, principal: Principal, case_id: int) -> Case:
    """The case, if ``principal`` may read it; NotFound otherwise (existence is not revealed)."""
    case = repo.scoped_case(session, case_id, reader_scope(principal))
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在 (case not found)")
    return case


def _due(case: Case, now: datetime) -> dict[str, str]:
    """How the case stands against its two deadlines at ``now``."""
    return {
        "response_status": deadlines.response_status(
            case.created_at, case.respond_by, now=now, responded_at=case.responded_at).value,
        "resolution_status": deadlines.resolution_status(
            case.created_at, case.resolve_by, now=now, resolved_at=case.resolved_at).value,
    }


def detail(session: Session, principal: Principal, case_id: int, *,
           lang: str) -> dict[str, Any]:
    """Everything the detail page shows, for a case in ``principal``'s scope (NotFound outside).

    The reporter's phone is always masked; ``may_reveal_phone`` says whether the principal may
    ask for the full number (see :func:`gridmap.cases.services.personal.reveal_phone`), and
    ``allowed_actions`` what they may do now.
    """
    case = readable_case(session, principal, case_id)
    view = cases.view(session, case)
    allowed = [a.value for a in workflow.allowed_actions(view, principal)]
    category = repo.category(session, case.category, active_only=False)
    lon, lat = repo.position(session, case_id)
    names = repo.department_names(session, lang)
    photos = repo.photos(session, case_id)
    body = {
        "id": case.id, "category": case.category,
        "category_name": (category.name_en if lang == "en" else category.name_zh)
        if category else case.category,
        "description": case.description, "address": case.address, "lon": lon, "lat": lat,
        "grid_code": case.grid_code, "community_code": case.community_code,
        "subdistrict_code": case.subdistrict_code, "district_code": case.district_code,
        "building_code": case.building_code, "channel": case.channel, "state": case.state,
        "owner_kind": case.owner_kind, "owner_department": case.owner_department,
        "owner_department_name": names.get(case.owner_department or ""),
        "reopen_count": case.reopen_count, "rating": case.rating,
        "reporter_name": case.reporter_name,
        "reporter_phone": mask_phone(case.reporter_phone),
        "may_reveal_phone": bool(case.reporter_phone) and workflow.is_handler(view, principal),
        "created_at": case.created_at, "respond_by": case.respond_by,
        "resolve_by": case.resolve_by, "responded_at": case.responded_at,
        "resolved_at": case.resolved_at, "closed_at": case.closed_at, "version": case.version,
        **_due(case, datetime.now(UTC)),
        "cohandlers": [{"department": c.department_code,
                        "department_name": names.get(c.department_code), "done": c.done,
                        "note": c.note} for c in view.cohandlers],
        "enrolled_departments": [{"code": code, "name": names.get(code)}
                                 for code in sorted(view.enrolled_departments)],
        "photos": [{"id": p.id, "kind": p.kind, "url": f"/media/{p.path}",
                    "thumb_url": f"/media/{p.thumb_path}"} for p in photos],
        **repo.grid_names(session, case.grid_code),
        "events": _events(session, case_id, lang=lang, handler=workflow.is_handler(view, principal)),
        "allowed_actions": allowed,
        "next_step": _next_step(session, case, view, names),
    }
    return json_safe(body)  # type: ignore[no-any-return]


def _events(session: Session, case_id: int, *, lang: str, handler: bool) -> list[dict[str, Any]]:
    """The case's history; a further reporter's phone (``add_report``) masked like the case's
    own, with whether the principal may reveal it."""
    events = repo.events(session, case_id, lang=lang)
    for event in events:
        payload = dict(event.get("payload") or {})
        phone = payload.get("reporter_phone")
        if isinstance(phone, str) and phone:
            payload["reporter_phone"] = mask_phone(phone)
            payload["may_reveal_phone"] = handler
        event["payload"] = payload
    return events


def _next_step(session: Session, case: Case, view: workflow.CaseView,
               department_names: dict[str, str]) -> dict[str, Any]:
    """Who must act next, by name, on what and by when (the page words the sentence)."""
    step = workflow.next_step(view)
    due = {"respond": case.respond_by, "resolve": case.resolve_by}.get(step.deadline or "")
    worker = repo.grid_worker_name(session, case.grid_code)
    return {"actor": step.actor, "action": step.action.value if step.action else None,
            "departments": [department_names.get(d, d) for d in step.departments],
            "grid_worker": worker, "deadline": step.deadline, "due": due}


def readable_condition(principal: Principal) -> ColumnElement[bool]:
    """SQL on ``"case"``: the cases ``principal`` may read in full (false for the public and
    for roles that read no case), the condition every case list uses."""
    if not principal.has(*READERS):
        return false()
    return scope_repo.case_condition(principal.case_scope())
