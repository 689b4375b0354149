"""Coverage API: JSON / GeoJSON / CSV reads of stored runs, siting and what-if (computed on
request from current data, nothing stored) and the GB 50180 audit (read from stored runs).

Every read is for coverage readers (:mod:`~gridmap.coverage.services.readers`) and stays in
their area: ``area`` (or ``parent``) narrows it and defaults to it, a code outside it is a 403.
Siting and what-if are for planners, one at a time per planner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, jsonify, request, url_for

from gridmap.codes import Level
from gridmap.coverage.services import audit, planning, readers
from gridmap.coverage.services import jobs as compute_jobs
from gridmap.coverage.services import queries as cov
from gridmap.coverage.services import siting as plan
from gridmap.coverage.services import what_if as whatif
from gridmap.coverage.services.queries import Run
from gridmap.coverage.services.readers import PLANNERS, READERS
from gridmap.coverage.web import params
from gridmap.coverage.web.blueprint import bp
from gridmap.jobs.services import jobs
from gridmap.web import params as web_params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import read_connection, session_factory, settings
from gridmap.web.i18n import current_lang
from gridmap.web.ratelimit import limited
from gridmap.web.request_log import current_request_id
from gridmap.web.streaming import streamed

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"


def _run() -> Run:
    """The current run named by the query string (400 / 404 otherwise)."""
    with session_factory()() as session:
        return cov.resolve_run(session, *params.rule(request.args))


def _download(body: Iterator[str], mimetype: str, filename: str, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(streamed(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})


def _name(run: Run, suffix: str) -> str:
    return f"coverage-{run.facility_type}-{run.circle}-{suffix}"


@bp.get("/api/coverage/runs")
@require(*READERS)
def runs() -> Response:
    """Current runs: facility type, circle, distance, metric CRS, computed_at, seconds, and the
    totals of the reader's area."""
    with session_factory()() as session:
        return jsonify({"runs": cov.runs(session, current_principal(), lang=current_lang())})


@bp.get("/api/coverage/buildings.geojson")
@require(*READERS)
def buildings_geojson() -> Response:
    """Buildings with distance, band and nearest facility; capped when ``zoom`` is given."""
    run, zoom = _run(), params.zoom(request.args)
    cap = settings().layer_feature_limit if zoom is not None else None
    body = cov.buildings_geojson(session_factory(), current_principal(), run,
                                 area=params.area_arg(request.args),
                                 bbox=web_params.bbox(request.args), zoom=zoom, cap=cap)
    return _download(body, GEOJSON, _name(run, "buildings.geojson"), inline=zoom is not None)


@bp.get("/api/coverage/buildings.csv")
@require(*READERS)
def buildings_csv() -> Response:
    """Every building of the run (within ``area``) as CSV."""
    run = _run()
    body = cov.buildings_csv(session_factory(), current_principal(), run,
                             area=params.area_arg(request.args))
    return _download(body, CSV, _name(run, "buildings.csv"), inline=False)


def _areas() -> tuple[Run, Level, str | None, list[dict[str, Any]]]:
    """The run, level, parent (default: the reader's area) and area rows a query asks for."""
    level, principal = params.level(request.args), current_principal()
    parent = readers.area(principal, params.parent(request.args))
    with session_factory()() as session:
        run = cov.resolve_run(session, *params.rule(request.args))
        return run, level, parent, cov.areas(session, principal, run, level, parent=parent)


@bp.get("/api/coverage/areas")
@require(*READERS)
def areas() -> Response:
    """Areas of ``level`` (within ``parent``) with rates and uncovered elderly, worst first."""
    _, level, parent, rows = _areas()
    return jsonify({"level": level, "parent": parent, "areas": rows})


@bp.get("/api/coverage/areas.geojson")
@require(*READERS)
def areas_geojson() -> Response:
    """Area polygons with their rates (for a choropleth), optionally within ``bbox``."""
    level, parent = params.level(request.args), params.parent(request.args)
    zoom, run = params.zoom(request.args), _run()
    body = cov.areas_geojson(session_factory(), current_principal(), run, level, parent=parent,
                             bbox=web_params.bbox(request.args), zoom=zoom)
    return _download(body, GEOJSON, _name(run, f"{level}.geojson"), inline=zoom is not None)


@bp.get("/api/coverage/areas.csv")
@require(*READERS)
def areas_csv() -> Response:
    """Areas of ``level`` as CSV, worst first."""
    run, level, _, rows = _areas()
    return _download(cov.areas_csv(rows), CSV, _name(run, f"{level}.csv"), inline=False)


@bp.get("/api/coverage/distances")
@require(*READERS)
def distances() -> Response:
    """Histogram of walking distances: 100 m bins to 2 km, plus buildings not reached."""
    with session_factory()() as session:
        run = cov.resolve_run(session, *params.rule(request.args))
        return jsonify(cov.distances(session, current_principal(), run,
                                     area=params.area_arg(request.args)))


@bp.get("/api/coverage/catchments.geojson")
@require(*READERS)
def catchments() -> Response:
    """Walking catchments (reached street pieces) within a bbox of limited size."""
    bbox = cov.catchment_bbox(web_params.bbox(request.args))
    with session_factory()() as session:
        run = cov.resolve_run(session, *params.rule(request.args))
        body = cov.catchments_geojson(session, current_principal(), run, bbox)
    return Response(body, mimetype=GEOJSON)


@bp.post("/api/coverage/siting")
@limited("planning")
@require(*PLANNERS)
def siting_sites() -> Response | tuple[Response, int]:
    """Up to ``k`` new sites in ``area`` maximising newly covered elderly, with their gains;
    with ``background`` a job (202; its result is this answer), for a district's worth."""
    ask = params.siting_request(web_params.json_body())
    if ask.background:
        job = compute_jobs.start_siting(
            session_factory(), current_principal(), facility_type=ask.facility_type,
            circle=ask.circle, area=ask.area, k=ask.k, max_candidates=ask.max_candidates,
            candidates=ask.candidates, request_id=current_request_id())
        answer = jsonify({"job": job, "created": True})
        answer.headers["Location"] = url_for("jobs.job", job_id=job["id"])
        return answer, 202
    with (read_connection() as conn, planning.one_at_a_time(conn, current_principal()) as me,
          session_factory()() as session):
        report = plan.site(session, me, ask.facility_type, ask.circle, area_code=ask.area,
                           k=ask.k, candidates=ask.candidates, max_candidates=ask.max_candidates)
    return jsonify(plan.siting_answer(report))


@bp.post("/api/coverage/what-if")
@limited("planning")
@require(*PLANNERS)
def what_if() -> Response:
    """Coverage if ``add`` points opened and ``remove`` facilities closed; nothing is stored."""
    ask = params.what_if_request(web_params.json_body())
    with (read_connection() as conn, planning.one_at_a_time(conn, current_principal()) as me,
          session_factory()() as session):
        report = whatif.what_if(session, me, ask.facility_type, ask.circle, add=ask.add,
                                remove=ask.remove, level=ask.level)
    return jsonify(whatif.what_if_answer(report, ask.level))


@bp.get("/api/coverage/audit")
@require(*READERS)
def audit_json() -> Response:
    """GB 50180 audit rows (one per area and required type × circle) and missing runs."""
    query = params.audit_query(request.args)
    with session_factory()() as session:
        rows = list(audit.rows(session, current_principal(), level=query.level,
                               prefix=query.prefix, min_share=query.min_share))
        missing = audit.missing_runs(session)
    return jsonify({"level": query.level, "area": readers.area(current_principal(), query.prefix),
                    "min_share": query.min_share, "rows": rows, "missing": missing})


@bp.get("/api/coverage/audit.csv")
@require(*READERS)
def audit_csv() -> Response:
    """The audit as CSV (UTF-8 with BOM), streamed."""
    query = params.audit_query(request.args)
    body = audit.export(session_factory(), current_principal(), level=query.level,
                        prefix=query.prefix, min_share=query.min_share, geojson=False)
    return _download(body, CSV, f"gb50180-audit-{query.level}.csv", inline=False)


@bp.get("/api/coverage/audit.geojson")
@require(*READERS)
def audit_geojson() -> Response:
    """The audit as GeoJSON (one feature per area and pair, with the area's polygon), streamed."""
    query = params.audit_query(request.args)
    body = audit.export(session_factory(), current_principal(), level=query.level,
                        prefix=query.prefix, min_share=query.min_share, geojson=True)
    return _download(body, GEOJSON, f"gb50180-audit-{query.level}.geojson", inline=False)


@bp.post("/api/coverage/jobs")
@require(*compute_jobs.COMPUTERS)
def start_compute() -> tuple[Response, int]:
    """Start computing one rule (``type``, ``circle``) or every rule (``all``) in the background:
    202 with the new job, or 200 with the one already under way; follow it at ``Location``."""
    ask = params.compute_request(web_params.json_body())
    if ask.rule is None:
        job, created = compute_jobs.start_compute_all(
            session_factory(), current_principal(), if_missing=ask.if_missing,
            request_id=current_request_id())
    else:
        job, created = compute_jobs.start_compute(session_factory(), current_principal(),
                                                  *ask.rule, request_id=current_request_id())
    answer = jsonify({"job": job, "created": created})
    answer.headers["Location"] = url_for("jobs.job", job_id=job["id"])
    return answer, 202 if created else 200


@bp.get("/api/coverage/jobs")
@require(*READERS)
def compute_jobs_list() -> Response:
    """The newest coverage computes (``active=1``: those waiting or running), for the pages'
    progress bars, which pick up a running job again after a reload."""
    active = web_params.flag(request.args, "active")
    found = jobs.listing(session_factory(), current_principal(), kinds=compute_jobs.KINDS,
                         active_only=active)
    answer = jsonify({"jobs": found})
    answer.headers["Cache-Control"] = "no-store"
    return answer
