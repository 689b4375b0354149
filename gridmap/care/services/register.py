"""The care register: who may see it, adding entries, the grid's list and one entry (logged).

Every function that returns a person's name, condition, address or phone first checks that the
principal's scope holds the entry's grid (:func:`gridmap.care.rules.may_see_residents`) and
writes an audit entry in the same unit of work, so no view goes unlogged. An entry outside the
scope is "not found", so its existence is not confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.accounts.services import audit
from gridmap.care import rules
from gridmap.care.repositories import care as repo
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized

VISITS_SHOWN = 50
"""Newest visits shown with an entry."""
_NOT_FOUND = "未找到该登记对象 (no such register entry)"


@dataclass(frozen=True)
class EntryRequest:
    """A new register entry as typed by a grid worker or community staff."""

    building_code: str
    name: str
    reasons: Sequence[str]
    unit: str = ""
    household: str = ""
    phone: str = ""
    carer: str = ""
    note: str = ""


def care_staff(principal: Principal) -> Principal:
    """``principal`` if their role works the register at all (where is checked per grid).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For roles that never see residents in need of care.
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*rules.CARE_ROLES):
        raise Forbidden("您的岗位不能查看关爱对象名册，只能查看各网格的数量 (your role cannot see "
                        "the care register, only counts per grid)")
    return principal


def seen_grid(principal: Principal, grid: str) -> str:
    """``grid`` if ``principal`` may see its people; else "not found" (no confirmation)."""
    care_staff(principal)
    if not rules.may_see_residents(principal, grid):
        raise NotFound("未找到该网格或不在您的辖区内 (no such grid in your scope)")
    return grid


def reference(factory: sessionmaker[Session]) -> dict[str, Any]:
    """The reasons and visit rules (reference data, no person)."""
    with factory() as session:
        return {"reasons": repo.reasons(session), "rules": repo.rules(session),
                "fallback_interval_days": rules.FALLBACK_INTERVAL_DAYS, "far_m": rules.FAR_M,
                "small_count": rules.SMALL_COUNT}


def _problems(session: Session, request: EntryRequest) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not request.name.strip():
        problems["name"] = "请填写姓名 (name is required)"
    known = {r["code"] for r in repo.reasons(session)}
    unknown = [r for r in request.reasons if r not in known]
    if not request.reasons or unknown:
        problems["reasons"] = (f"请选择关爱原因，可选：{', '.join(sorted(known))} "
                               "(choose one or more known reasons)")
    for name, value, limit in (("name", request.name, rules.MAX_NAME),
                               ("phone", request.phone, rules.MAX_PHONE),
                               ("carer", request.carer, rules.MAX_CARER),
                               ("unit", request.unit, rules.MAX_UNIT),
                               ("household", request.household, rules.MAX_UNIT),
                               ("note", request.note, rules.MAX_TEXT)):
        if len(value.strip()) > limit:
            problems[name] = f"{name} 最多 {limit} 个字符 ({name} longer than {limit} characters)"
    return problems


def add_entry(factory: sessionmaker[Session], principal: Principal,
              request: EntryRequest) -> int:
    """Add a resident to the register of the building's grid (its worker, or staff over it).

    Raises
    ------
    InvalidInput
        Every problem of the request at once (an unknown building among them).
    NotFound
        The building's grid is outside the principal's scope.
    """
    who = care_staff(principal)
    with unit_of_work(factory) as session:
        problems = _problems(session, request)
        building = repo.building(session, request.building_code.strip())
        if building is None:
            problems["building_code"] = "未找到该楼院 (no such building)"
        if problems:
            raise InvalidInput("；".join(problems.values()), fields=problems)
        assert building is not None
        seen_grid(who, str(building["grid_code"]))
        entry_id = repo.insert_entry(session, {
            "building_id": building["id"], "name": request.name.strip(),
            "phone": request.phone.strip(), "unit": request.unit.strip(),
            "household": request.household.strip(), "carer": request.carer.strip(),
            "note": request.note.strip(), "created_by": _person(who)}, request.reasons)
        audit.record(session, who, audit.Event.CARE_ENTRY_CREATED, target_kind="care_entry",
                     target_id=entry_id, detail={"grid": building["grid_code"]})
        return entry_id


def grid_register(factory: sessionmaker[Session], principal: Principal,
                  grid: str) -> list[dict[str, Any]]:
    """The grid's active entries with names, conditions and phones; the view is logged."""
    seen_grid(principal, codes.parse(grid, codes.Level.GRID, field="grid"))
    with unit_of_work(factory) as session:
        entries = repo.grid_entries(session, grid, fallback_days=rules.FALLBACK_INTERVAL_DAYS)
        audit.record(session, principal, audit.Event.CARE_REGISTER_VIEWED, target_kind="grid",
                     target_id=grid, detail={"entries": [e["id"] for e in entries]})
    return entries


def entry_detail(factory: sessionmaker[Session], principal: Principal,
                 entry_id: int) -> dict[str, Any]:
    """One entry with its newest visits; the view is logged."""
    care_staff(principal)
    with unit_of_work(factory) as session:
        found = repo.entry(session, entry_id, fallback_days=rules.FALLBACK_INTERVAL_DAYS)
        if found is None or not rules.may_see_residents(principal, str(found["grid_code"])):
            raise NotFound(_NOT_FOUND)
        found["visits"] = repo.visits(session, entry_id, limit=VISITS_SHOWN)
        audit.record(session, principal, audit.Event.CARE_ENTRY_VIEWED,
                     target_kind="care_entry", target_id=entry_id,
                     detail={"grid": found["grid_code"]})
    return found


def entry_in_scope(session: Session, principal: Principal, entry_id: int) -> dict[str, Any]:
    """The entry (for a write in the caller's unit of work) if in scope, else "not found"."""
    found = repo.entry(session, entry_id, fallback_days=rules.FALLBACK_INTERVAL_DAYS)
    if found is None or not rules.may_see_residents(principal, str(found["grid_code"])):
        raise NotFound(_NOT_FOUND)
    return found


def close_entry(factory: sessionmaker[Session], principal: Principal, entry_id: int,
                reason: str) -> dict[str, Any]:
    """Take a resident off the register (the grid's worker or staff over it), with the reason;
    visits, explanations and reports stay.

    Raises
    ------
    InvalidInput
        No reason, or one too long.
    NotFound
        The entry is outside the principal's scope.
    Conflict
        The entry is closed already.
    """
    who = care_staff(principal)
    text = reason.strip()
    if not text or len(text) > rules.MAX_EXPLANATION:
        raise InvalidInput(f"请填写结案原因（最多 {rules.MAX_EXPLANATION} 字） "
                           f"(reason is required, at most {rules.MAX_EXPLANATION} characters)",
                           fields={"reason": "required"})
    with unit_of_work(factory) as session:
        found = entry_in_scope(session, who, entry_id)
        if not repo.close_entry(session, entry_id, text):
            raise Conflict("该登记对象已结案 (this entry is closed already)")
        audit.record(session, who, audit.Event.CARE_ENTRY_CLOSED, target_kind="care_entry",
                     target_id=entry_id, detail={"grid": found["grid_code"]})
    return {"id": entry_id, "active": False}


def public_counts(factory: sessionmaker[Session], args: Mapping[str, str]) -> dict[str, Any]:
    """Active entries per grid of an area for anyone: counts 1-4 suppressed, no person."""
    area = codes.area_filter(args)
    with factory() as session:
        rows = repo.counts(session, area.prefix() or "")
    return {"small_count": rules.SMALL_COUNT, "grids": [
        {"code": r["code"], "name": r["name"], "entries": rules.suppressed(int(r["entries"])),
         "suppressed": rules.suppressed(int(r["entries"])) is None} for r in rows]}


def _person(who: Principal) -> int:
    if who.person_id is None:
        raise Forbidden("此账号未关联人员，不能登记 (this account is no person and cannot record)")
    return who.person_id
