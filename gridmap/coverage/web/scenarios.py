"""Saved what-if scenarios (方案): the API (save, list, read, delete, export, compare) and the
pages (list, one scenario with its sites on a map, side-by-side comparison), for planners only.

Saving computes the what-if again (the planner's one-at-a-time lock and the planning rate limit
apply, as for ``POST /api/coverage/what-if``) and stores what it answered.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request, url_for

from gridmap.coverage.services import planning, readers
from gridmap.coverage.services import scenarios as svc
from gridmap.coverage.services.readers import PLANNERS
from gridmap.coverage.web import params
from gridmap.coverage.web.blueprint import bp
from gridmap.web import params as web_params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import read_connection, session_factory
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config
from gridmap.web.ratelimit import limited
from gridmap.web.streaming import streamed

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"


def _links(scenario_id: int) -> dict[str, str]:
    return {"url": url_for("coverage.scenario", scenario_id=scenario_id),
            "page": url_for("coverage.scenario_page", scenario_id=scenario_id),
            "csv": url_for("coverage.scenario_csv", scenario_id=scenario_id),
            "geojson": url_for("coverage.scenario_geojson", scenario_id=scenario_id)}


def _one(scenario_id: int) -> dict[str, Any]:
    with session_factory()() as session:
        return svc.one(session, current_principal(), scenario_id, lang=current_lang())


@bp.post("/api/coverage/scenarios")
@limited("planning")
@require(*PLANNERS)
def save_scenario() -> tuple[Response, int]:
    """Compute a what-if and save it as a scenario (``name``, ``note``): 201 with its id."""
    ask = params.scenario_request(web_params.json_body())
    w = ask.what_if
    with read_connection() as conn, planning.one_at_a_time(conn, current_principal()) as me:
        new_id = svc.save(session_factory(), me, facility_type=w.facility_type, circle=w.circle,
                          level=w.level, add=w.add, remove=w.remove, name=ask.name,
                          note=ask.note)
    answer = jsonify({"id": new_id, **_links(new_id)})
    answer.headers["Location"] = url_for("coverage.scenario", scenario_id=new_id)
    return answer, 201


@bp.get("/api/coverage/scenarios")
@require(*PLANNERS)
def scenarios_list() -> Response:
    """The planner's scenarios and those saved inside their area, newest first (no areas)."""
    with session_factory()() as session:
        found = svc.listing(session, current_principal(), lang=current_lang())
    return jsonify({"scenarios": [{**s, **_links(s["id"])} for s in found]})


@bp.get("/api/coverage/scenarios/<int:scenario_id>")
@require(*PLANNERS)
def scenario(scenario_id: int) -> Response:
    """One scenario as saved: request, run, totals and every area before and after."""
    return jsonify({**_one(scenario_id), **_links(scenario_id)})


@bp.delete("/api/coverage/scenarios/<int:scenario_id>")
@require(*PLANNERS)
def delete_scenario(scenario_id: int) -> Response:
    """Delete a scenario (its owner only)."""
    svc.delete(session_factory(), current_principal(), scenario_id)
    return jsonify({"deleted": scenario_id})


def _download(body: Any, mimetype: str, filename: str) -> Response:
    return Response(streamed(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/api/coverage/scenarios/<int:scenario_id>.csv")
@require(*PLANNERS)
def scenario_csv(scenario_id: int) -> Response:
    """A scenario as CSV: totals, each area before and after, added and removed sites."""
    body = svc.export_csv(_one(scenario_id))
    return _download(body, CSV, f"whatif-scenario-{scenario_id}.csv")


@bp.get("/api/coverage/scenarios/<int:scenario_id>.geojson")
@require(*PLANNERS)
def scenario_geojson(scenario_id: int) -> Response:
    """A scenario as GeoJSON: its areas' outlines with their figures, and its sites."""
    with session_factory()() as session:
        found = svc.one(session, current_principal(), scenario_id, lang=current_lang())
        shapes = svc.area_shapes(session, found)
    return _download(svc.export_geojson(found, shapes), GEOJSON,
                     f"whatif-scenario-{scenario_id}.geojson")


@bp.get("/api/coverage/scenarios/compare")
@require(*PLANNERS)
def compare_scenarios() -> Response:
    """2–3 scenarios (``ids=1,2,3``) side by side, with the areas any of them changes."""
    ids = params.scenario_ids(request.args)
    with session_factory()() as session:
        answer = svc.compare(session, current_principal(), ids, lang=current_lang())
    for s in answer["scenarios"]:
        s.update(_links(s["id"]))
    return jsonify(answer)


# --- pages ---------------------------------------------------------------------------------------

@bp.get("/coverage/scenarios")
@require(*PLANNERS)
def scenarios_page() -> str:
    """The saved scenarios (方案列表), with a picker of 2–3 to compare."""
    with session_factory()() as session:
        found = svc.listing(session, current_principal(), lang=current_lang())
    low, high = svc.COMPARE
    return render_template("coverage/scenarios.html", scenarios=found,
                           page_config=page_config(compare={"min": low, "max": high}))


@bp.get("/coverage/scenarios/<int:scenario_id>")
@require(*PLANNERS)
def scenario_page(scenario_id: int) -> str:
    """One scenario: request, figures, every area that changes, its sites on a map, exports."""
    found = _one(scenario_id)
    sites = {"add": found["add"], "remove": found["remove"]}
    return render_template("coverage/scenario.html", s=found, links=_links(scenario_id),
                           page_config=page_config(sites=sites, area=readers.scope(
                               current_principal())))


@bp.get("/coverage/scenarios/compare")
@require(*PLANNERS)
def compare_page() -> str:
    """2–3 scenarios side by side; differences between them highlighted."""
    ids = params.scenario_ids(request.args)
    with session_factory()() as session:
        answer = svc.compare(session, current_principal(), ids, lang=current_lang())
    return render_template("coverage/compare.html", cmp=answer, page_config=page_config())
