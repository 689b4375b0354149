"""Case pages for people (HTML): intake, detail, board. All data comes from the case JSON API.

Each needs an account (the public is sent to the sign-in page) with a role that uses it: intake
for those who report, the others for those who read case rows.
"""

from __future__ import annotations

from flask import Blueprint

from gridmap.access import STATISTICS_ROLES
from gridmap.cases.labels import state_labels
from gridmap.cases.services import board as case_board
from gridmap.cases.services.cases import INTAKE_ROLES
from gridmap.cases.services.queries import READERS
from gridmap.cases.web.page import render_case_page
from gridmap.web.auth import current_principal, require

bp = Blueprint("case_pages", __name__)


@bp.app_context_processor
def _labels() -> dict[str, object]:
    # Every page that includes the case strings (coverage pages do too) gets the one table, and
    # the header shows the case links to those whose role may use them (the rules of the views).
    me = current_principal()
    return {"state_labels": state_labels, "may_report": me.has(*INTAKE_ROLES),
            "may_read_cases": me.has(*READERS), "may_see_statistics": me.has(*STATISTICS_ROLES)}


@bp.get("/cases/new")
@require(*INTAKE_ROLES)
def new_case() -> str:
    """Intake (上报案件): place the case on the map, fill the form, submit."""
    return render_case_page("cases/new.html")


@bp.get("/cases/<int:case_id>")
@require(*READERS)
def case_detail(case_id: int) -> str:
    """One case (案件详情): map, facts, photos, timeline and the actions the person may take."""
    return render_case_page("cases/detail.html", caseId=case_id)


@bp.get("/cases")
@require(*READERS)
def board() -> str:
    """The case board (案件看板): search, quick filters, filters, overdue first, load more, CSV and
    GeoJSON export. "My grid" and "my cases" are offered to those who have grids or are a person."""
    me = current_principal()
    return render_case_page("cases/board.html", myGrid=bool(me.grids),
                            myCases=me.person_id is not None, maxSearch=case_board.MAX_TEXT_CHARS)
