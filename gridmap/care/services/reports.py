"""The monthly zero report (月普查零报告): a grid's checklist, explanations, the report, and the
overview of who has not reported and which visits are overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.accounts.services import audit
from gridmap.care import rules
from gridmap.care.repositories import care as repo
from gridmap.care.services import register
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound

SHOWN_IN_MESSAGE = 20
"""Entries named in the refusal of an incomplete report (the checklist lists them all)."""


STATUSES = ("visited", "explained", "closed", "pending")
"""An entry's state in a month's checklist; only ``pending`` holds the zero report back (an
entry closed during the month is explained by its closing reason)."""


def _status(row: dict[str, Any]) -> str:
    if row["visited_at"] is not None:
        return "visited"
    if row["explanation"] is not None:
        return "explained"
    if row["closed"]:
        return "closed"
    return "pending"


def _month_not_future(month: date, now: datetime) -> date:
    if month > rules.this_month(now):
        raise InvalidInput("不能填报未来的月份 (that month has not begun)")
    return month


def checklist(factory: sessionmaker[Session], principal: Principal, grid: str,
              month: date) -> dict[str, Any]:
    """The grid's entries of ``month``: visited, explained or pending (names: a logged view)."""
    register.seen_grid(principal, codes.parse(grid, codes.Level.GRID, field="grid"))
    start, end = rules.month_bounds(month)
    with unit_of_work(factory) as session:
        rows = repo.month_checklist(session, grid, month, start, end)
        report = repo.zero_report(session, grid, month)
        audit.record(session, principal, audit.Event.CARE_REGISTER_VIEWED, target_kind="grid",
                     target_id=grid, detail={"month": month.isoformat(),
                                             "entries": [r["id"] for r in rows]})
    entries = [{**r, "status": _status(r)} for r in rows]
    totals = {s: sum(1 for e in entries if e["status"] == s) for s in STATUSES}
    return {"grid": grid, "month": month.strftime("%Y-%m"), "report": report,
            "totals": totals, "entries": entries}


def _worker_of(principal: Principal, grid: str) -> Principal:
    register.seen_grid(principal, grid)
    if principal.role is not Role.GRID_WORKER or principal.person_id is None:
        raise Forbidden("零报告由本网格的网格员填报 (the grid's worker files the zero report)")
    return principal


def explain(factory: sessionmaker[Session], principal: Principal, entry_id: int, month: date,
            reason: str) -> dict[str, Any]:
    """Say why an entry was not visited in ``month`` (replaces an earlier one): the grid's
    worker, or community, sub-district or district staff over the grid, who often know why
    (in hospital, staying with children) and unblock a grid's report from the overview.

    Raises
    ------
    InvalidInput
        No reason, a reason too long, or a month not yet begun.
    """
    who = register.care_staff(principal)
    text = reason.strip()
    if not text or len(text) > rules.MAX_EXPLANATION:
        raise InvalidInput(f"请填写未走访原因（最多 {rules.MAX_EXPLANATION} 字） "
                           f"(reason is required, at most {rules.MAX_EXPLANATION} characters)",
                           fields={"reason": "required"})
    _month_not_future(month, datetime.now(UTC))
    with unit_of_work(factory) as session:
        register.entry_in_scope(session, who, entry_id)
        if who.person_id is None:
            raise Forbidden("此账号未关联人员，不能说明 (this account is no person and cannot "
                            "record)")
        repo.explain(session, entry_id, month, text, who.person_id)
    return {"entry_id": entry_id, "month": month.strftime("%Y-%m"), "reason": text}


def submit(factory: sessionmaker[Session], principal: Principal, grid: str, month: date, *,
           no_new_difficulty: bool | None, note: str) -> dict[str, Any]:
    """File the grid's report of ``month``: refused while any entry is neither visited nor
    explained (the refusal names them), or when already filed.

    Raises
    ------
    InvalidInput
        No explicit answer to "no new difficulty found", no note when there is one, a note too
        long, or a month not yet begun.
    Conflict
        Entries are pending, or the month's report was already filed.
    """
    who = _worker_of(principal, codes.parse(grid, codes.Level.GRID, field="grid"))
    problems: dict[str, str] = {}
    if no_new_difficulty is None:
        problems["no_new_difficulty"] = ("请明确回答是否发现新的困难情况 "
                                         "(answer no_new_difficulty explicitly: true or false)")
    elif not no_new_difficulty and not note.strip():
        problems["note"] = "发现新的困难情况时请说明 (describe the new difficulty found)"
    if len(note.strip()) > rules.MAX_TEXT:
        problems["note"] = f"说明最多 {rules.MAX_TEXT} 个字符 (note too long)"
    if problems:
        raise InvalidInput("；".join(problems.values()), fields=problems)
    _month_not_future(month, datetime.now(UTC))
    start, end = rules.month_bounds(month)
    with unit_of_work(factory) as session:
        pending = [r for r in repo.month_checklist(session, grid, month, start, end)
                   if _status(r) == "pending"]
        if pending:
            shown = pending[:SHOWN_IN_MESSAGE]
            named = "、".join(f"{r['name']}（#{r['id']}）" for r in shown)
            named_en = ", ".join(f"{r['name']} #{r['id']}" for r in shown)
            more = f" 等 {len(pending)} 人" if len(pending) > SHOWN_IN_MESSAGE else ""
            raise Conflict(f"以下登记对象本月既未走访也未说明原因，不能提交零报告：{named}{more} "
                           f"({len(pending)} entries neither visited nor explained: "
                           f"{named_en}{' …' if more else ''})")
        report_id = repo.insert_zero_report(session, {
            "grid_code": grid, "month": month, "no_new_difficulty": bool(no_new_difficulty),
            "note": note.strip(), "submitted_by": who.person_id})
        if report_id is None:
            raise Conflict("本网格该月的零报告已提交 (this month's report was already filed)")
    return {"id": report_id, "grid": grid, "month": month.strftime("%Y-%m")}


def overview_area(principal: Principal, requested: codes.AreaFilter) -> str:
    """The area whose overview ``principal`` may see: the requested one inside their own.

    Raises
    ------
    Forbidden
        For roles other than community, sub-district and district staff.
    NotFound
        A requested area outside their own.
    """
    register.care_staff(principal)
    if not principal.has(*SUPERVISORS):
        raise Forbidden("零报告总览供社区、街道和区查看 (the overview is for community, "
                        "sub-district and district staff)")
    own = principal.area_code or ""
    wanted = requested.prefix()
    if wanted is None:
        return own
    if not codes.nests(own, wanted) and not codes.nests(wanted, own):
        raise NotFound("该区域不在您的辖区内 (that area is outside your scope)")
    return wanted if codes.nests(own, wanted) else own


def overview(factory: sessionmaker[Session], principal: Principal, requested: codes.AreaFilter,
             month: date | None, *, with_geom: bool = False,
             problems_only: bool = False) -> dict[str, Any]:
    """Per grid of the area: its worker, register size, overdue visits, the month's checklist
    in counts, and the month's report with its state (:data:`gridmap.care.rules.REPORT_STATES`).

    No resident in it: counts only, for the staff of the area (one set-based statement).
    """
    prefix = overview_area(principal, requested)
    now = datetime.now(UTC)
    chosen = _month_not_future(month or rules.this_month(now), now)
    deadline = rules.report_deadline(chosen)
    with factory() as session:
        rows = repo.overview(session, prefix, chosen, now,
                             fallback_days=rules.FALLBACK_INTERVAL_DAYS,
                             bounds=rules.month_bounds(chosen), deadline=deadline,
                             with_geom=with_geom, problems_only=problems_only)
    states = {s: sum(1 for r in rows if r["report_state"] == s) for s in rules.REPORT_STATES}
    return {"area": prefix, "month": chosen.strftime("%Y-%m"), "now": now, "deadline": deadline,
            "due_by": (deadline - timedelta(days=1)).date(),
            "grids": rows,
            "totals": {"grids": len(rows),
                       "not_reported": sum(1 for r in rows if not r["reported"]),
                       "overdue": sum(int(r["overdue"]) for r in rows),
                       "pending": sum(int(r["pending"]) for r in rows), **states}}
