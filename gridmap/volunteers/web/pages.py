"""The pages: the Party organisation map (``/party``) and a community's volunteers
(``/volunteers``: teams, volunteers, open tasks, ranking, publishing a task). Their data comes
from the JSON API; what a page shows depends on who asks, as the API's answers do."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from gridmap.volunteers import rules
from gridmap.volunteers.services import party, tasks
from gridmap.web import params
from gridmap.web.auth import current_principal
from gridmap.web.db import session_factory
from gridmap.web.page_config import page_config

bp = Blueprint("volunteer_pages", __name__)


@bp.app_context_processor
def _navigation() -> dict[str, bool]:
    """Whether the header links the volunteers page and the Party map (staff who work them)."""
    return {"may_work_volunteers": rules.is_staff(current_principal())}


def _home_community() -> str:
    """The community a signed-in person works in, to open the page on (may be empty)."""
    me = current_principal()
    if me.grids:
        return sorted(me.grids)[0][:12]
    if me.area_code and len(me.area_code) >= 12:
        return me.area_code[:12]
    return ""


@bp.get("/party")
def party_page() -> str:
    """The Party organisation on the map: branches, groups and households (counts or names)."""
    me = current_principal()
    return render_template("volunteers/party.html", page_config=page_config(
        staff=rules.is_staff(me), area=party.opening_district(session_factory(), me),
        smallCount=rules.SMALL_COUNT))


@bp.get("/volunteers")
def volunteers_page() -> str:
    """A community's volunteer teams, volunteers, tasks and ranking (phone first)."""
    case_id = params.identifier(request.args, "case")
    visit_id = params.identifier(request.args, "visit")
    community = (params.text(request.args, "community", max_chars=24)
                 or tasks.source_community(session_factory(), current_principal(),
                                           case_id=case_id, visit_id=visit_id)
                 or _home_community())
    return render_template("volunteers/volunteers.html", page_config=page_config(
        community=community, caseId=case_id, visitId=visit_id,
        staff=rules.is_staff(current_principal()), maxTitle=rules.MAX_TITLE))
