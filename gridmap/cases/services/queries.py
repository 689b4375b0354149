"""Read side of cases: categories, who may act in a grid, a case's detail for a given person."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.cases import deadlines, workflow
from gridmap.cases.privacy import mask_phone
from gridmap.cases.repositories import cases as repo
from gridmap.cases.services import cases
from gridmap.errors import NotFound
from gridmap.models import Case


def json_safe(value: Any) -> Any:
    """Datetimes as ISO 8601 (UTC), decimals as floats, recursively."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def categories(session: Session, *, lang: str) -> list[dict[str, Any]]:
    """Active categories with their default departments and deadlines."""
    return [{"code": c.code, "name": c.name_en if lang == "en" else c.name_zh,
             "default_departments": c.default_departments,
             "respond_hours": c.respond_hours, "resolve_hours": c.resolve_hours}
            for c in repo.categories(session)]


def people_for_grid(session: Session, grid_code: str, *, lang: str) -> list[dict[str, Any]]:
    """The grid's worker and Party households, its community's secretary and enrolled staff."""
    grid = codes.parse(grid_code, codes.Level.GRID, field="grid")
    community = codes.ancestor(grid, codes.Level.COMMUNITY) or ""
    return [{"id": r["id"], "name": r["name"], "role": r["role"],
             "department": r["department_en"] if lang == "en" else r["department_zh"]}
            for r in repo.people_for_grid(session, grid, community)]


def _handles(case: Case, actor: workflow.Actor, view: workflow.CaseView) -> bool:
    """May this person see the reporter's phone? Only the case's handlers may."""
    if actor.role == "community_secretary" and actor.community_code == case.community_code:
        return True
    if actor.role == "grid_worker" and case.grid_code in actor.member_grids:
        return True
    departments = {view.owner_department} | {c.department_code for c in view.cohandlers}
    return (actor.role == "department_staff" and actor.department_code in departments
            and case.grid_code in actor.enrolled_grids)


def _due(case: Case, now: datetime) -> dict[str, str]:
    """How the case stands against its two deadlines at ``now``."""
    return {
        "response_status": deadlines.response_status(
            case.created_at, case.respond_by, now=now, responded_at=case.responded_at).value,
        "resolution_status": deadlines.resolution_status(
            case.created_at, case.resolve_by, now=now, resolved_at=case.resolved_at).value,
    }


def detail(session: Session, case_id: int, *, actor_id: int | None, lang: str) -> dict[str, Any]:
    """Everything the detail page shows; the phone is masked unless ``actor_id`` handles it."""
    case = repo.get_case(session, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在 (case not found)")
    view = cases.view(session, case)
    actor = cases.actor(session, actor_id) if actor_id is not None else None
    allowed = [a.value for a in workflow.allowed_actions(view, actor)] if actor else []
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
        "reporter_phone": case.reporter_phone if actor and _handles(case, actor, view)
        else mask_phone(case.reporter_phone),
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
        "events": repo.events(session, case_id, lang=lang),
        "allowed_actions": allowed,
    }
    return json_safe(body)  # type: ignore[no-any-return]
