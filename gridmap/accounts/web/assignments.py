"""网格分配: which grid worker serves each grid and which departments' staff are enrolled in it
(网格吹哨、部门报到). Administrators everywhere, data officers inside their district.

A grid has one grid worker: choosing a new one replaces the current one (the page says so before
and names both after). Each department enrols one staff member per grid, replaced the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from gridmap.accounts.services import assignments
from gridmap.accounts.services.rights import ASSIGNERS
from gridmap.accounts.web.forms import ConfirmForm, EnrolmentForm, PersonForm
from gridmap.errors import Conflict, InvalidInput
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.i18n import current_lang

bp = Blueprint("assignments", __name__, url_prefix="/admin/grids")


@bp.get("/")
@require(*ASSIGNERS)
def grids() -> ResponseReturnValue:
    """Grids in scope by code, searched by code prefix or name, with worker and enrolments."""
    args = request.args
    with session_factory()() as db:
        page = assignments.grids(db, current_principal(), query=args.get("q", ""),
                                 after=args.get("after"))
    return render_template("accounts/admin/grids.html", page=page, q=args.get("q", ""))


def _grid_page(code: str, status: int = 200) -> ResponseReturnValue:
    args = request.args
    principal = current_principal()
    department = args.get("department") or None
    with session_factory()() as db:
        found = assignments.grid(db, principal, code, lang=current_lang())
        workers = assignments.candidates(db, principal, code, query=args.get("worker_q", ""))
        staff = (assignments.candidates(db, principal, code, query=args.get("staff_q", ""),
                                        department=department) if department else [])
    return render_template("accounts/admin/grid.html", grid=found, workers=workers, staff=staff,
                           worker_q=args.get("worker_q", ""), staff_q=args.get("staff_q", ""),
                           department=department), status


@bp.get("/<code>")
@require(*ASSIGNERS)
def grid(code: str) -> ResponseReturnValue:
    """One grid: its worker and each department's enrolled staff, with people to choose."""
    return _grid_page(code)


def _change(code: str, form: Any, change: Callable[[], dict[str, Any]],
            done: Callable[[dict[str, Any]], str]) -> ResponseReturnValue:
    if not form.validate_on_submit():
        flash(gettext("请检查填写的内容。"), "error")
        return _grid_page(code, 400)
    try:
        result = change()
    except (InvalidInput, Conflict) as exc:
        flash(exc.message, "error")
        return _grid_page(code, exc.status)
    flash(done(result) if result["changed"] else gettext("没有变化。"), "ok")
    return redirect(url_for("assignments.grid", code=code), 303)


def _name(person: dict[str, Any] | None) -> str:
    return str(person["name"]) if person else gettext("（无）")


@bp.post("/<code>/worker")
@require(*ASSIGNERS)
def set_worker(code: str) -> ResponseReturnValue:
    """Make a person the grid's worker, replacing the current one."""
    form = PersonForm()
    return _change(code, form, lambda: assignments.set_worker(
        session_factory(), current_principal(), code, int(form.person_id.data or 0)),
        lambda r: gettext("网格员已由 %(before)s 更换为 %(after)s。",
                          before=_name(r["before"]), after=_name(r["after"])))


@bp.post("/<code>/worker/remove")
@require(*ASSIGNERS)
def remove_worker(code: str) -> ResponseReturnValue:
    """Leave the grid without a worker."""
    return _change(code, ConfirmForm(), lambda: assignments.remove_worker(
        session_factory(), current_principal(), code),
        lambda r: gettext("%(before)s 已不再是此网格的网格员。", before=_name(r["before"])))


@bp.post("/<code>/enrolments")
@require(*ASSIGNERS)
def set_enrolment(code: str) -> ResponseReturnValue:
    """Enrol a department's staff member in the grid, replacing the one it had there."""
    form = EnrolmentForm()
    return _change(code, form, lambda: assignments.set_enrolment(
        session_factory(), current_principal(), code, form.department_code.data or "",
        int(form.person_id.data or 0)),
        lambda r: gettext("报到人员已由 %(before)s 更换为 %(after)s。",
                          before=_name(r["before"]), after=_name(r["after"])))


@bp.post("/<code>/enrolments/<department>/remove")
@require(*ASSIGNERS)
def remove_enrolment(code: str, department: str) -> ResponseReturnValue:
    """The department is no longer enrolled in the grid."""
    return _change(code, ConfirmForm(), lambda: assignments.remove_enrolment(
        session_factory(), current_principal(), code, department),
        lambda r: gettext("%(before)s 已退出此网格的报到。", before=_name(r["before"])))
