"""The care register's pages (未呼先应). All data comes from the care JSON API; a page holds no
resident, so it only checks who may open it.

- ``/care/visits``: the grid worker's phone page for visits (走访登记), with links to the month.
- ``/care``: the zero-report overview (零报告总览) for community, sub-district and district
  staff: a map and a list of the grids in their area by the month's report state.
- ``/care/grids/<grid>/month``: one grid's month (本月走访清单): the checklist, explanations,
  the zero report (its worker), the register with adding and closing entries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gridmap import codes
from gridmap.access import SUPERVISORS, Role
from gridmap.care import rules
from gridmap.care.services import register
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.page_config import page_config

bp = Blueprint("care_pages", __name__)


@bp.app_context_processor
def _links() -> dict[str, object]:
    # The header's care links for the roles the views admit: grid workers visit, community,
    # sub-district and district staff watch the zero reports.
    me = current_principal()
    return {"may_visit": me.role is Role.GRID_WORKER, "may_oversee_care": me.has(*SUPERVISORS)}


def _limits() -> dict[str, object]:
    return {"farM": rules.FAR_M, "maxFindings": rules.MAX_TEXT,
            "maxExplanation": rules.MAX_EXPLANATION, "reportDueDay": rules.REPORT_DUE_DAY,
            "thisMonth": rules.this_month(datetime.now(UTC)).strftime("%Y-%m"),
            "reportStates": list(rules.REPORT_STATES)}


@bp.get("/care/visits")
@require(Role.GRID_WORKER)
def visits_page() -> str:
    """My grids' residents in need of care, soonest due first, each with a visit form."""
    return render_template("care/visits.html", page_config=page_config(
        grids=sorted(current_principal().grids), **_limits()))


@bp.get("/care")
@require(*rules.CARE_ROLES)
def overview_page() -> str | Response:
    """The zero-report overview of the staff's area (grid workers go to their visits page)."""
    if not current_principal().has(*SUPERVISORS):
        return redirect(url_for("care_pages.visits_page"))
    return render_template("care/overview.html", page_config=page_config(**_limits()))


@bp.get("/care/grids/<grid>/month")
@require(*rules.CARE_ROLES)
def month_page(grid: str) -> str:
    """A grid's month: checklist, explanations, the zero report and the register."""
    code = register.seen_grid(current_principal(),
                              codes.parse(grid, codes.Level.GRID, field="grid"))
    month = params.text(request.args, "month", max_chars=10)
    chosen = rules.parse_month(month) if month else rules.this_month(datetime.now(UTC))
    me = current_principal()
    return render_template("care/month.html", grid=code, page_config=page_config(
        grid=code, month=chosen.strftime("%Y-%m"),
        mayReport=me.role is Role.GRID_WORKER, mayVisit=me.role is Role.GRID_WORKER,
        **_limits()))
