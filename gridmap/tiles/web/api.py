"""Vector tiles (``/tiles/{collection}/{z}/{x}/{y}.mvt``), TileJSON and OGC API Tiles
(``/ogc/collections/{collectionId}/tiles`` and below)."""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from gridmap.tiles.services import documents, tiles
from gridmap.tiles.services.catalogue import Tileset
from gridmap.web.auth import current_principal
from gridmap.web.db import hot_connection
from gridmap.web.i18n import current_lang

bp = Blueprint("tiles", __name__)

PUBLIC_CACHE = "public, no-cache"
"""Stored by browsers and proxies, revalidated each use: a 304 costs one small query, and a
changed layer is seen at once (the ETag carries its version)."""
PRIVATE_CACHE = "private, no-cache"
"""A tile with a staff member's scoped properties: only their browser keeps it."""
SCOPED_VARY = "Accept-Encoding, Cookie, Authorization"


@bp.get("/tiles/<collection>/<z>/<x>/<y>.mvt")
def tile(collection: str, z: str, x: str, y: str) -> Response:
    """A vector tile (Mapbox Vector Tile 2.1, gzip) of a collection in WebMercatorQuad.

    ``z``/``x``/``y`` in XYZ order. Properties depend on the zoom (fewer when zoomed out);
    staff whose territory holds a building also get its counts of vulnerable residents (a
    private answer). ``ETag`` and ``If-None-Match`` (304); 404 outside the tileset's zooms.
    """
    return _tile(collection, z, x, y)


@bp.get("/ogc/collections/<collection_id>/tiles/WebMercatorQuad/<tile_matrix>/<tile_row>/"
        "<tile_col>")
def ogc_tile(collection_id: str, tile_matrix: str, tile_row: str, tile_col: str) -> Response:
    """OGC API Tiles: a vector tile of a collection (the same tile as ``/tiles/…``).

    ``tile_matrix`` is the zoom, ``tile_row`` the row (y), ``tile_col`` the column (x).
    """
    return _tile(collection_id, tile_matrix, tile_col, tile_row)


@bp.get("/tiles/<collection>.json")
def tilejson(collection: str) -> Response:
    """TileJSON 3.0 of a collection's vector tiles (URL template, zooms, bounds, fields)."""
    with hot_connection() as conn:
        ts = tiles.tileset(conn, collection, current_principal())
        doc = documents.tilejson(ts, _urls(ts), documents.extent(conn), current_lang())
    return _json(doc, private=tiles.varies_by_person(ts))


@bp.get("/ogc/collections/<collection_id>/tiles")
def ogc_tilesets(collection_id: str) -> Response:
    """OGC API Tiles: the tilesets of a collection (vector, WebMercatorQuad)."""
    with hot_connection() as conn:
        ts = tiles.tileset(conn, collection_id, current_principal())
    return _json(documents.tileset_list(ts, _urls(ts), current_lang()),
                 private=tiles.varies_by_person(ts))


@bp.get("/ogc/collections/<collection_id>/tiles/WebMercatorQuad")
def ogc_tileset(collection_id: str) -> Response:
    """OGC API Tiles: a tileset's metadata, limits per zoom and tile URL template."""
    with hot_connection() as conn:
        ts = tiles.tileset(conn, collection_id, current_principal())
        doc = documents.tileset_metadata(ts, _urls(ts), documents.extent(conn), current_lang())
    return _json(doc, private=tiles.varies_by_person(ts))


def _tile(collection: str, z: str, x: str, y: str) -> Response:
    principal = current_principal()
    with hot_connection() as conn:
        ref = tiles.locate_tile(conn, collection, z, x, y, principal)
        gzipped = request.accept_encodings["gzip"] > 0
        etag = ref.etag if gzipped else f"{ref.etag}-identity"
        headers = {"Cache-Control": PRIVATE_CACHE if ref.private else PUBLIC_CACHE,
                   "Vary": SCOPED_VARY if tiles.varies_by_person(ref.tileset)
                   else "Accept-Encoding"}
        if request.if_none_match.contains_weak(etag):
            response = Response(status=304, headers=headers)
            response.set_etag(etag)
            return response
        body = tiles.tile_body(conn, ref, current_app.extensions.get("gridmap.tile_cache"))
    if gzipped:
        headers["Content-Encoding"] = "gzip"  # a compressing middleware leaves it as it is
    else:
        body = gzip.decompress(body)
    response = Response(body, mimetype=documents.MVT_TYPE, headers=headers)
    response.set_etag(etag)
    return response


def _urls(ts: Tileset) -> documents.Urls:
    def url(endpoint: str, **args: str) -> str:
        return url_for(endpoint, _external=True, **args).replace("%7B", "{").replace("%7D", "}")

    return documents.Urls(
        xyz=url("tiles.tile", collection=ts.id, z="{z}", x="{x}", y="{y}"),
        ogc=url("tiles.ogc_tile", collection_id=ts.id, tile_matrix="{tileMatrix}",
                tile_row="{tileRow}", tile_col="{tileCol}"),
        tilejson=url("tiles.tilejson", collection=ts.id),
        tileset=url("tiles.ogc_tileset", collection_id=ts.id),
        tilesets=url("tiles.ogc_tilesets", collection_id=ts.id))


def _json(doc: dict[str, Any], *, private: bool) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    headers = {"Cache-Control": PRIVATE_CACHE if private else PUBLIC_CACHE,
               "Vary": "Accept-Language, Cookie, Authorization"}
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304, headers=headers)
    else:
        response = Response(body, mimetype="application/json", headers=headers)
    response.set_etag(etag)
    return response


def error_answer(status: int, message: str) -> Response:
    """Errors under ``/tiles/``: JSON for tile clients, a page when a person's browser asks."""
    if request.accept_mimetypes.best == "text/html":
        return Response(render_template("error.html", status=status, message=message),
                        status=status, mimetype="text/html")
    code = {404: "not_found", 400: "invalid_input"}.get(status, "error")
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json")
