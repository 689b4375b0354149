"""Case pages for people (HTML): intake, detail, board. All data comes from the case JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

bp = Blueprint("case_pages", __name__)


def _page_config(**extra: Any) -> dict[str, Any]:
    """Deployment facts the page scripts need; every user-visible string is in the template."""
    settings = current_app.extensions["gridmap.settings"]
    return {"apiBase": request.script_root + "/api", "root": request.script_root,
            "tileUrl": settings.tile_url, "tileAttribution": settings.tile_attribution, **extra}


@bp.get("/cases/new")
def new_case() -> str:
    """Intake (上报案件): place the case on the map, fill the form, submit."""
    return render_template("cases/new.html", page_config=_page_config())


@bp.get("/cases/<int:case_id>")
def case_detail(case_id: int) -> str:
    """One case (案件详情): map, facts, photos, timeline and the actions the person may take."""
    return render_template("cases/detail.html", case_id=case_id,
                           page_config=_page_config(caseId=case_id))


@bp.get("/cases")
def board() -> str:
    """The case board (案件看板): filters, overdue first, load more, CSV and GeoJSON export."""
    return render_template("cases/board.html", page_config=_page_config())
