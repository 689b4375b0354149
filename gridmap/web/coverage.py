"""Coverage analysis (覆盖分析): the page, and JSON / GeoJSON / CSV reads of stored runs."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context

from gridmap.repositories.coverage_queries import Run
from gridmap.services import coverage_queries as cov
from gridmap.web import params
from gridmap.web.db import session_factory, settings
from gridmap.web.i18n import current_lang

bp = Blueprint("coverage", __name__)

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"


def _run() -> Run:
    with session_factory()() as session:
        return cov.resolve_run(session, request.args)


def _download(body: Iterator[str], mimetype: str, filename: str, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})


def _name(run: Run, suffix: str) -> str:
    return f"coverage-{run.facility_type}-{run.circle}-{suffix}"


@bp.get("/coverage")
def page() -> str:
    """The coverage page: pickers, map (bands, catchments, choropleth), totals, table, chart."""
    with session_factory()() as session:
        choices = cov.choices(session, lang=current_lang())
    config = {"apiBase": request.script_root + "/api", "root": request.script_root,
              "tileUrl": settings().tile_url, "tileAttribution": settings().tile_attribution,
              **choices}
    return render_template("coverage/page.html", page_config=config)


@bp.get("/api/coverage/runs")
def runs() -> Response:
    """Current runs: facility type, circle, distance, computed_at, seconds and totals."""
    with session_factory()() as session:
        return jsonify({"runs": cov.runs(session, lang=current_lang())})


@bp.get("/api/coverage/buildings.geojson")
def buildings_geojson() -> Response:
    """Buildings with distance, band and nearest facility; capped when ``zoom`` is given."""
    run = _run()
    zoom = params.integer(request.args, "zoom", default=-1, lo=0, hi=24)
    cap = settings().layer_feature_limit if zoom >= 0 else None
    body = cov.buildings_geojson(session_factory(), run, bbox=params.bbox(request.args),
                                 zoom=zoom if zoom >= 0 else None, cap=cap)
    return _download(body, GEOJSON, _name(run, "buildings.geojson"), inline=zoom >= 0)


@bp.get("/api/coverage/buildings.csv")
def buildings_csv() -> Response:
    """Every building of the run as CSV."""
    run = _run()
    return _download(cov.buildings_csv(session_factory(), run), CSV,
                     _name(run, "buildings.csv"), inline=False)


@bp.get("/api/coverage/areas")
def areas() -> Response:
    """Areas of ``level`` (within ``parent``) with rates and uncovered elderly, worst first."""
    level, parent = cov.parse_level(request.args), cov.parse_parent(request.args)
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        rows = cov.areas(session, run, level, parent=parent)
    return jsonify({"level": level, "parent": parent, "areas": rows})


@bp.get("/api/coverage/areas.geojson")
def areas_geojson() -> Response:
    """Area polygons with their rates (for a choropleth), optionally within ``bbox``."""
    level, parent = cov.parse_level(request.args), cov.parse_parent(request.args)
    zoom = params.integer(request.args, "zoom", default=-1, lo=0, hi=24)
    run = _run()
    body = cov.areas_geojson(session_factory(), run, level, parent=parent,
                             bbox=params.bbox(request.args), zoom=zoom if zoom >= 0 else None)
    return _download(body, GEOJSON, _name(run, f"{level}.geojson"), inline=zoom >= 0)


@bp.get("/api/coverage/areas.csv")
def areas_csv() -> Response:
    """Areas of ``level`` as CSV, worst first."""
    level, parent = cov.parse_level(request.args), cov.parse_parent(request.args)
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        rows = cov.areas(session, run, level, parent=parent)
    return _download(cov.areas_csv(rows), CSV, _name(run, f"{level}.csv"), inline=False)


@bp.get("/api/coverage/distances")
def distances() -> Response:
    """Histogram of walking distances: 100 m bins to 2 km, plus buildings not reached."""
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        return jsonify(cov.distances(session, run))


@bp.get("/api/coverage/catchments.geojson")
def catchments() -> Response:
    """Walking catchments (reached street pieces) within a bbox of at most 5 km a side."""
    bbox = cov.catchment_bbox(params.bbox(request.args))
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        body = cov.catchments_geojson(session, run, bbox)
    return Response(body, mimetype=GEOJSON)
