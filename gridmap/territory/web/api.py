"""JSON and GeoJSON API: health, meta, layers (streamed), locate, search."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gridmap.errors import InvalidInput
from gridmap.territory.services import layers
from gridmap.territory.services import lookup as territory
from gridmap.web import caching, params
from gridmap.web.auth import current_principal
from gridmap.web.db import (
    hot_connection,
    read_connection,
    readiness,
    service_checks,
    session_factory,
    settings,
)
from gridmap.web.i18n import current_lang
from gridmap.web.streaming import streamed

bp = Blueprint("api", __name__, url_prefix="/api")


def _lang() -> str:
    return current_lang()


@bp.get("/health")
@bp.get("/health/live", endpoint="health_live")
def health() -> Response:
    """Liveness: the process answers (no database round trip); restart it if this fails."""
    return jsonify({"status": "ok"})


@bp.get("/health/ready")
def health_ready() -> tuple[Response, int, dict[str, str]]:
    """Readiness: the database answers and is migrated to this code's head; send no traffic
    here (503) until both hold, e.g. during a restart or before ``gridmap db upgrade``.

    When ready, the features' checks follow (the job worker seen recently): any of them
    failing makes the status ``degraded``, still 200, for monitoring to alert on."""
    ready, checks = readiness()
    if not ready:
        body = jsonify({"status": "not_ready", "checks": checks})
        return body, 503, {"Retry-After": "5"}
    checks.update(service_checks())
    status = "ready" if all(word == "ok" for word in checks.values()) else "degraded"
    return jsonify({"status": status, "checks": checks}), 200, {}


@bp.get("/meta")
def meta() -> Response:
    """Layers, facility types and the loaded extent, for the map page."""
    with read_connection() as conn:
        return jsonify(territory.meta(conn, lang=_lang()))


@bp.get("/locate")
def locate() -> Response:
    """Grid, hierarchy, nearest building, worker and departments at a point."""
    lon, lat, crs = params.point(request.args)
    principal = current_principal()
    if layers.resident_counts_for(principal) is not None:  # staff: their buildings' counts too
        found = territory.locate_for(session_factory(), principal, lon, lat, crs=crs.value,
                                     lang=_lang())
        response = jsonify(found)
        response.headers["Cache-Control"] = "private, no-store"
        return response
    with hot_connection() as conn:  # the public's hot path: the document as PostgreSQL built it
        body = territory.locate_json(conn, lon, lat, crs=crs.value, lang=_lang())
    return Response(body, mimetype="application/json")


@bp.get("/search")
def search() -> Response:
    """Find districts … grids, streets, buildings and facilities by name or code, with shapes."""
    query = request.args.get("q", "").strip()
    if not query:
        raise InvalidInput("请输入名称或代码 (parameter 'q' is required)")
    if len(query) > 100:
        raise InvalidInput("搜索词过长 (query too long, max 100 characters)")
    limit = params.integer(request.args, "limit", default=10, lo=1, hi=50)
    with read_connection() as conn:
        return jsonify({"results": territory.search(conn, query, limit=limit)})


@bp.get("/layers/<name>.geojson")
def layer(name: str) -> Response:
    """A layer as a streamed RFC 7946 FeatureCollection, filtered by bbox and area; 304 when
    the client's ETag is still current (the layer's data versions, the query, the scope)."""
    layers.layer_spec(name)  # an unknown layer is a 404 before any parameter is looked at
    zoom = params.integer(request.args, "zoom", default=-1, lo=0, hi=24)
    bbox, area = params.bbox(request.args), params.area(request.args)
    principal = current_principal()
    private = layers.is_scoped(name, principal)  # residents' counts: for this person only
    tag = caching.etag(name, layers.data_versions(session_factory(), name), caching.query_key(),
                       _lang(), settings().layer_feature_limit,
                       caching.scope_key(principal) if private else "public")
    unchanged = caching.not_modified(tag, private=private)
    if unchanged is not None:
        return unchanged
    body = layers.layer_collection(
        session_factory(), name, bbox=bbox, zoom=zoom if zoom >= 0 else None, area=area,
        facility_type=request.args.get("type") or None, lang=_lang(),
        cap=settings().layer_feature_limit if zoom >= 0 else None, principal=principal,
    )
    headers = {"Content-Disposition": f'inline; filename="{name}.geojson"'}
    response = Response(streamed(body), mimetype="application/geo+json", headers=headers)
    return caching.validated(response, tag, private=private)
