"""The grid worker's phone page for visits (走访登记). All data comes from the care JSON API."""

from __future__ import annotations

from flask import Blueprint, render_template

from gridmap.access import Role
from gridmap.care import rules
from gridmap.web.auth import current_principal, require
from gridmap.web.page_config import page_config

bp = Blueprint("care_pages", __name__)


@bp.get("/care/visits")
@require(Role.GRID_WORKER)
def visits_page() -> str:
    """My grids' residents in need of care, soonest due first, each with a visit form."""
    return render_template("care/visits.html", page_config=page_config(
        grids=sorted(current_principal().grids), farM=rules.FAR_M, maxFindings=rules.MAX_TEXT))
