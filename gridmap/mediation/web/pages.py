"""The mediation page for staff (评理说事). All data comes from the mediation JSON API."""

from __future__ import annotations

from flask import Blueprint, render_template

from gridmap.mediation import rules
from gridmap.mediation.services import points
from gridmap.web.auth import current_principal, require
from gridmap.web.page_config import page_config

bp = Blueprint("mediation_pages", __name__)


@bp.app_context_processor
def _nav() -> dict[str, object]:
    # The header's link, for the roles that read disputes.
    return {"may_mediate": current_principal().has(*rules.MEDIATION_ROLES)}


@bp.get("/mediation")
@require(*rules.MEDIATION_ROLES)
def page() -> str:
    """Points on a map and in a list with counts; a point's disputes; a dispute with its
    parties, sessions and history; the forms to accept, record a session and close."""
    return render_template("mediation/page.html",
                           page_config=page_config(mediation=points.reference()))
