"""JSON and GeoJSON API: health, meta, layers (streamed), locate, search."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request, stream_with_context

from gridmap.errors import InvalidInput, NotFound
from gridmap.territory.repositories.layers import LAYERS, feature_collection, layer_query, stream_features
from gridmap.territory.services import lookup as territory
from gridmap.web import params
from gridmap.web.db import hot_connection, read_connection, session_factory, settings
from gridmap.web.i18n import current_lang

if TYPE_CHECKING:
    from sqlalchemy import Select

bp = Blueprint("api", __name__, url_prefix="/api")


def _lang() -> str:
    return current_lang()


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers (no database round trip)."""
    return jsonify({"status": "ok"})


@bp.get("/meta")
def meta() -> Response:
    """Layers, facility types and the loaded extent, for the map page."""
    with read_connection() as conn:
        return jsonify(territory.meta(conn, lang=_lang()))


@bp.get("/locate")
def locate() -> Response:
    """Grid, hierarchy, nearest building, worker and departments at a point."""
    lon, lat, crs = params.point(request.args)
    with hot_connection() as conn:
        body = territory.locate_json(conn, lon, lat, crs=crs.value, lang=_lang())
    return Response(body, mimetype="application/json")


@bp.get("/search")
def search() -> Response:
    """Find districts … grids, buildings and facilities by name or code."""
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
    """A layer as a streamed RFC 7946 FeatureCollection, filtered by bbox and area."""
    spec = LAYERS.get(name)
    if spec is None:
        raise NotFound(f"没有图层 {name!r}；可选：{', '.join(LAYERS)} (unknown layer)")
    zoom = params.integer(request.args, "zoom", default=-1, lo=0, hi=24)
    facility_type = _facility_type(request.args.get("type"))
    cap = settings().layer_feature_limit if zoom >= 0 else None
    stmt = layer_query(
        spec, bbox=params.bbox(request.args), zoom=zoom if zoom >= 0 else None,
        area=params.area(request.args), facility_type=facility_type, lang=_lang(),
        limit=cap + 1 if cap is not None else None,
    )
    body = stream_with_context(_stream(stmt, cap))
    return Response(body, mimetype="application/geo+json",
                    headers={"Content-Disposition": f'inline; filename="{name}.geojson"'})


def _stream(stmt: Select[str], cap: int | None) -> Iterator[str]:
    with session_factory()() as session:
        yield from feature_collection(stream_features(session, stmt), cap=cap)


def _facility_type(raw: str | None) -> str | None:
    if not raw:
        return None
    if not raw.replace("_", "").isalnum() or len(raw) > 40:
        raise InvalidInput(f"设施类型无效：{raw!r} (invalid facility type)")
    with read_connection() as conn:
        known = [t["code"] for t in territory.facility_types(conn, lang="zh")]
    if raw not in known:
        raise InvalidInput(f"未知设施类型 {raw!r}；可选：{', '.join(known)} (unknown facility type)")
    return raw
