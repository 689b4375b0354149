"""Case pages for people (HTML): intake, detail, board. All data comes from the case JSON API."""

from __future__ import annotations

from flask import Blueprint

from gridmap.cases.labels import state_labels
from gridmap.cases.web.page import render_case_page

bp = Blueprint("case_pages", __name__)


@bp.app_context_processor
def _labels() -> dict[str, object]:
    # Every page that includes the case strings (coverage pages do too) gets the one table.
    return {"state_labels": state_labels}


@bp.get("/cases/new")
def new_case() -> str:
    """Intake (上报案件): place the case on the map, fill the form, submit."""
    return render_case_page("cases/new.html")


@bp.get("/cases/<int:case_id>")
def case_detail(case_id: int) -> str:
    """One case (案件详情): map, facts, photos, timeline and the actions the person may take."""
    return render_case_page("cases/detail.html", caseId=case_id)


@bp.get("/cases")
def board() -> str:
    """The case board (案件看板): filters, overdue first, load more, CSV and GeoJSON export."""
    return render_case_page("cases/board.html")
