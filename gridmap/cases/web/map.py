"""Case map (案件地图): the page, and the compact points it draws (clusters, heatmap)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gridmap.cases.services import board as case_board
from gridmap.cases.services.queries import READERS
from gridmap.cases.web.page import render_case_page
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory

bp = Blueprint("case_map", __name__)


@bp.get("/cases/map")
@require(*READERS)
def map_page() -> str:
    """The case map: filters, clusters or heatmap coloured by state, click a case for details."""
    return render_case_page("cases/map.html")


@bp.get("/api/cases/points")
@require(*READERS)
def points() -> Response:
    """``{"points": [[id, lon, lat, state, overdue], …], "truncated": bool}`` for the map, of
    the principal's cases.

    Takes the board's filters plus an optional ``bbox=minx,miny,maxx,maxy`` (WGS84).
    """
    filters = case_board.parse_filter(request.args, current_principal())
    bbox = params.bbox(request.args)
    with session_factory()() as session:
        found = case_board.points(session, current_principal(), filters, bbox=bbox)
    return jsonify({"points": found.rows, "truncated": found.truncated})
