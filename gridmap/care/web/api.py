"""Care register API (未呼先应): entries, visits, the monthly zero report and its overview.

Handlers parse and call a service; the services check scope, log every view of a person and
own the transactions. Answers holding residents are never cached.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gridmap import codes
from gridmap.care import rules
from gridmap.care.services import register, reports, visits
from gridmap.errors import InvalidInput
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.writers import json_safe

bp = Blueprint("care", __name__)
_REASONS_MAX = 6


def _private(body: Any) -> Response:
    response = jsonify(json_safe(body))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/api/care/reference")
def reference() -> Response:
    """Reasons, visit rules and the register's limits (reference data, no person)."""
    return jsonify(register.reference(session_factory()))


@bp.get("/api/care/counts")
def counts() -> Response:
    """Active register entries per grid of an area, counts of 1-4 suppressed (anyone)."""
    return jsonify(register.public_counts(session_factory(), request.args))


@bp.post("/api/care/entries")
@require(*rules.CARE_ROLES)
def create_entry() -> tuple[Response, int]:
    """Add a resident to the register of their building's grid."""
    f = params.fields(lists=("reasons",))
    raw = f.get("reasons", [])
    reasons = raw if isinstance(raw, list) else [raw]
    if len(reasons) > _REASONS_MAX or not all(isinstance(r, str) for r in reasons):
        raise InvalidInput(f"reasons 须为至多 {_REASONS_MAX} 个原因代码 "
                           f"(reasons must be up to {_REASONS_MAX} reason codes)")
    entry = register.EntryRequest(
        building_code=params.text(f, "building_code", max_chars=24),
        name=params.text(f, "name", max_chars=rules.MAX_NAME * 2),
        reasons=[params.clean_text(r, "reasons", max_chars=24) for r in reasons],
        unit=params.text(f, "unit", max_chars=rules.MAX_UNIT * 2),
        household=params.text(f, "household", max_chars=rules.MAX_UNIT * 2),
        phone=params.text(f, "phone", max_chars=rules.MAX_PHONE * 2),
        carer=params.text(f, "carer", max_chars=rules.MAX_CARER * 2),
        note=params.text(f, "note", max_chars=rules.MAX_TEXT * 2, multiline=True))
    entry_id = register.add_entry(session_factory(), current_principal(), entry)
    return jsonify({"id": entry_id}), 201


@bp.get("/api/care/grids/<grid>/entries")
@require(*rules.CARE_ROLES)
def grid_entries(grid: str) -> Response:
    """The grid's register: names, reasons, phones, next visit due (a logged view)."""
    return _private({"grid": grid, "entries": register.grid_register(
        session_factory(), current_principal(), grid)})


@bp.get("/api/care/entries/<int:entry_id>")
@require(*rules.CARE_ROLES)
def entry(entry_id: int) -> Response:
    """One register entry with its newest visits (a logged view)."""
    return _private(register.entry_detail(session_factory(), current_principal(), entry_id))


@bp.post("/api/care/entries/<int:entry_id>/close")
@require(*rules.CARE_ROLES)
def close_entry(entry_id: int) -> Response:
    """Take a resident off the register, with the reason (moved away, no longer in need, …)."""
    f = params.fields()
    return _private(register.close_entry(session_factory(), current_principal(), entry_id,
                                         params.text(f, "reason",
                                                     max_chars=rules.MAX_EXPLANATION * 2,
                                                     multiline=True)))


@bp.post("/api/care/entries/<int:entry_id>/visits")
@require(*rules.CARE_ROLES)
def log_visit(entry_id: int) -> tuple[Response, int]:
    """Log a visit (the grid's worker); ``needs_help`` opens a linked case in the same step.
    A re-sent visit (same ``client_token``) answers 200 with the first one."""
    f = params.fields()
    at = params.text(f, "visited_at", max_chars=40)
    has_place = f.get("lon") not in (None, "") or f.get("lat") not in (None, "")
    visit = visits.VisitRequest(
        findings=params.text(f, "findings", max_chars=rules.MAX_TEXT * 2, multiline=True),
        needs_help=params.flag(f, "needs_help"),
        visited_at=rules.parse_instant(at) if at else None,
        lon=params.number(f, "lon") if has_place else None,
        lat=params.number(f, "lat") if has_place else None,
        category=params.text(f, "category", max_chars=40),
        share_contact=params.flag(f, "share_contact"),
        client_token=params.text(f, "client_token", max_chars=visits.MAX_CLIENT_TOKEN) or None)
    answer = visits.log_visit(session_factory(), current_principal(), entry_id, visit)
    return _private(answer), 200 if answer["existing"] else 201


@bp.post("/api/care/entries/<int:entry_id>/explanations")
@require(*rules.CARE_ROLES)
def explain(entry_id: int) -> Response:
    """Say why an entry was not visited in a month (the grid's worker)."""
    f = params.fields()
    month = rules.parse_month(params.text(f, "month", max_chars=10))
    return _private(reports.explain(session_factory(), current_principal(), entry_id, month,
                                    params.text(f, "reason", max_chars=rules.MAX_EXPLANATION * 2,
                                                multiline=True)))


@bp.get("/api/care/grids/<grid>/months/<month>")
@require(*rules.CARE_ROLES)
def month_checklist(grid: str, month: str) -> Response:
    """The month's checklist: every entry visited, explained or pending, and the report."""
    return _private(reports.checklist(session_factory(), current_principal(), grid,
                                      rules.parse_month(month)))


@bp.post("/api/care/grids/<grid>/months/<month>/report")
@require(*rules.CARE_ROLES)
def submit_report(grid: str, month: str) -> tuple[Response, int]:
    """File the month's zero report (refused, naming them, while entries are pending)."""
    f = params.fields()
    answer = None if f.get("no_new_difficulty") in (None, "") else params.flag(
        f, "no_new_difficulty")
    return _private(reports.submit(
        session_factory(), current_principal(), grid, rules.parse_month(month),
        no_new_difficulty=answer,
        note=params.text(f, "note", max_chars=rules.MAX_TEXT * 2, multiline=True))), 201


def _overview(with_geom: bool) -> dict[str, Any]:
    month = params.text(request.args, "month", max_chars=10)
    return reports.overview(session_factory(), current_principal(),
                            codes.area_filter(request.args),
                            rules.parse_month(month) if month else None, with_geom=with_geom,
                            problems_only=params.flag(request.args, "problems_only"))


@bp.get("/api/care/overview")
@require(*rules.CARE_ROLES)
def overview() -> Response:
    """Per grid of the area: register size, overdue visits, the month's report (no person)."""
    found = _overview(False)
    for row in found["grids"]:
        row.pop("geometry", None)
    return _private(found)


@bp.get("/api/care/overview.geojson")
@require(*rules.CARE_ROLES)
def overview_geojson() -> Response:
    """The overview as GeoJSON grid polygons, for the community's and sub-district's map."""
    import json

    found = _overview(True)
    features = [{"type": "Feature", "id": r["code"],
                 "geometry": json.loads(r.pop("geometry")) if r.get("geometry") else None,
                 "properties": json_safe(r)} for r in found["grids"]]
    response = _private({"type": "FeatureCollection", "features": features,
                         "month": found["month"], "deadline": found["deadline"],
                         "due_by": found["due_by"], "totals": found["totals"]})
    response.mimetype = "application/geo+json"
    return response
