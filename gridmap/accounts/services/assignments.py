"""Assignments: which grids a grid worker serves, and which departments' staff are enrolled in
which grids (网格吹哨、部门报到). For administrators, and data officers inside their area.

A grid has one grid worker and each department one enrolled staff member per grid, so setting
either replaces whoever held it; the answer names them. Scope follows at once: a worker's grids
and a department's enrolments are read at every request (``accounts/sql/principal.sql``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.accounts.repositories import assignments as repo
from gridmap.accounts.repositories import people as people_repo
from gridmap.accounts.services import rights
from gridmap.accounts.services.audit import Event, record
from gridmap.accounts.services.paging import PAGE_SIZE, Page, cut, query_text
from gridmap.db import unit_of_work
from gridmap.errors import InvalidInput, NotFound

WORKER_POST = "grid_worker"
STAFF_POST = "department_staff"
CANDIDATES = 20
"""People offered per search when choosing a worker or a department's staff."""


def grids(session: Session, principal: Principal, *, query: str = "", after: str | None = None,
          limit: int = PAGE_SIZE) -> Page:
    """Grids the principal may assign, by code, matching a code prefix or a name."""
    area = rights.assignable_area(principal)
    start = after if after and after.isascii() and after.isdigit() and len(after) <= 15 else None
    rows = repo.grids_page(session, area=area, query=query_text(query), after=start,
                           limit=limit + 1)
    return cut(rows, limit, lambda row: row["code"])


def _grid(session: Session, principal: Principal, code: str) -> dict[str, Any]:
    if not codes.is_code(code, codes.Level.GRID):
        raise NotFound(f"网格 {code[:15]} 不存在 (no such grid)")
    rights.assigner(principal, code)
    found = repo.grid(session, code)
    if found is None:
        raise NotFound(f"网格 {code} 不存在 (no such grid)")
    return found


def grid(session: Session, principal: Principal, code: str, *, lang: str) -> dict[str, Any]:
    """A grid with its worker and every department's enrolled staff member (or None)."""
    found = _grid(session, principal, code)
    found["worker"] = repo.worker(session, code)
    found["enrolments"] = repo.enrolments(session, code, lang=lang)
    return found


def candidates(session: Session, principal: Principal, code: str, *, query: str,
               department: str | None = None) -> list[dict[str, Any]]:
    """People who could serve the grid: grid workers, or ``department``'s staff, by name or id."""
    _grid(session, principal, code)
    text_ = query_text(query)
    if not text_:
        return []
    if department is None:
        return people_repo.search(session, query=text_, posts=(WORKER_POST,), limit=CANDIDATES)
    return people_repo.search(session, query=text_, posts=(STAFF_POST,),
                              department_code=department, limit=CANDIDATES)


def _public(person: dict[str, Any] | None) -> dict[str, Any] | None:
    """Who held or holds a post, as the audit log records it."""
    if person is None:
        return None
    return {"person_id": person["person_id"], "name": person["name"]}


def _eligible(session: Session, person_id: int, *, post: str,
              department: str | None = None) -> dict[str, Any]:
    person = repo.person(session, person_id)
    if person is None:
        raise InvalidInput(f"人员 {person_id} 不存在 (no such person)")
    if person["role"] != post or (department and person["department_code"] != department):
        zh, en = (("网格员", "a grid worker") if post == WORKER_POST
                  else (f"{department} 部门的工作人员", f"staff of {department}"))
        raise InvalidInput(f"{person['name']}（{person_id}）不是{zh} (person {person_id} is not {en})")
    if person["active"] is False:
        raise InvalidInput(f"{person['name']} 的账号已停用 (the person's account is deactivated)")
    return person


def set_worker(factory: sessionmaker[Session], principal: Principal, code: str,
               person_id: int) -> dict[str, Any]:
    """Make ``person_id`` the grid's worker, replacing the one it had; before and after."""
    with unit_of_work(factory) as session:
        _grid(session, principal, code)
        person = _eligible(session, person_id, post=WORKER_POST)
        before = repo.worker(session, code, for_update=True)
        if before is not None and before["person_id"] == person_id:
            return {"before": _public(before), "after": _public(before), "changed": False}
        repo.set_worker(session, code, person_id)
        change = {"before": _public(before), "after": _public(person)}
        record(session, principal, Event.ASSIGNMENT_CHANGED, target_kind="grid",
               target_id=code, detail={"post": WORKER_POST, **change})
    return {**change, "changed": True}


def remove_worker(factory: sessionmaker[Session], principal: Principal,
                  code: str) -> dict[str, Any]:
    """Leave the grid without a worker; before and after."""
    with unit_of_work(factory) as session:
        _grid(session, principal, code)
        before = repo.worker(session, code, for_update=True)
        if before is None:
            raise InvalidInput("该网格没有网格员 (the grid has no grid worker)")
        repo.remove_worker(session, code)
        change = {"before": _public(before), "after": None}
        record(session, principal, Event.ASSIGNMENT_CHANGED, target_kind="grid",
               target_id=code, detail={"post": WORKER_POST, **change})
    return {**change, "changed": True}


def _department(session: Session, department: str) -> str:
    if not people_repo.department_exists(session, department):
        raise InvalidInput(f"部门 {department[:40]} 不存在 (unknown department)")
    return department


def set_enrolment(factory: sessionmaker[Session], principal: Principal, code: str,
                  department: str, person_id: int) -> dict[str, Any]:
    """Enrol ``person_id`` for ``department`` in the grid, replacing its staff there."""
    with unit_of_work(factory) as session:
        _grid(session, principal, code)
        _department(session, department)
        person = _eligible(session, person_id, post=STAFF_POST, department=department)
        before = repo.enrolled(session, code, department, for_update=True)
        if before is not None and before["person_id"] == person_id:
            return {"before": _public(before), "after": _public(before), "changed": False}
        repo.set_enrolment(session, code, department, person_id)
        change = {"before": _public(before), "after": _public(person)}
        record(session, principal, Event.ENROLMENT_CHANGED, target_kind="grid", target_id=code,
               detail={"department": department, **change})
    return {**change, "changed": True}


def remove_enrolment(factory: sessionmaker[Session], principal: Principal, code: str,
                     department: str) -> dict[str, Any]:
    """The department is no longer enrolled in the grid; before and after."""
    with unit_of_work(factory) as session:
        _grid(session, principal, code)
        _department(session, department)
        before = repo.enrolled(session, code, department, for_update=True)
        if before is None:
            raise InvalidInput("该部门未在此网格报到 (the department is not enrolled in this grid)")
        repo.remove_enrolment(session, code, department)
        change = {"before": _public(before), "after": None}
        record(session, principal, Event.ENROLMENT_CHANGED, target_kind="grid", target_id=code,
               detail={"department": department, **change})
    return {**change, "changed": True}
