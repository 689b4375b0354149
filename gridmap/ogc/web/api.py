"""``/ogc``: OGC API Features over HTTP, in JSON (GeoJSON for items) and HTML.

Each handler parses the URL and the format only, and hands the query arguments to
:mod:`gridmap.ogc.services.features`, whose :data:`gridmap.ogc.query.ITEMS_PARAMETERS` describes
every parameter. The format is ``f=json|html``, else the ``Accept`` header (HTML only when a
browser prefers it), else JSON.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from gridmap.errors import InvalidInput
from gridmap.ogc import crs_refs, query
from gridmap.ogc.services import features
from gridmap.web import openapi
from gridmap.web.auth import current_principal
from gridmap.web.db import session_factory
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config
from gridmap.web.streaming import streamed

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
_ERROR_CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden",
                404: "NotFound", 405: "MethodNotAllowed", 429: "TooManyRequests"}


def _wants_html() -> bool:
    f = request.args.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidInput(f"f 只能是 json 或 html：{f[:40]!r} (f must be json or html)")
        return f == "html"
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/html"], default="application/json")
    accept = request.accept_mimetypes
    return best == "text/html" and accept["text/html"] > accept["application/json"]


def error_answer(status: int, message: str) -> Response:
    """An error under ``/ogc``: the OGC exception JSON, or the error page for a browser."""
    try:
        html = _wants_html()
    except InvalidInput:
        html = False
    if html:
        return Response(render_template("error.html", status=status, message=message), status,
                        mimetype="text/html")
    body = {"code": _ERROR_CODES.get(status, "ServerError"), "description": message}
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def _ctx() -> features.Context:
    base = url_for("ogc.landing", _external=True).rstrip("/")
    return features.Context(session_factory(), current_principal(), current_lang(), base)


def _json(doc: Any, kind: str = "application/json", *, private: bool = False) -> Response:
    response = Response(json.dumps(doc, ensure_ascii=False), mimetype=kind)
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _page(template: str, **values: Any) -> Response:
    response = Response(render_template(f"ogc/{template}", config=page_config(), **values),
                        mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
def landing() -> Response:
    """OGC API landing page: links to the conformance declaration and the collections.

    Query: ``f`` (json|html), ``lang``."""
    ctx = _ctx()
    doc = features.landing(ctx, service_doc=url_for("apidocs.docs_page", _external=True))
    return _page("landing.html", doc=doc) if _wants_html() else _json(doc)


@bp.get("/api")
def service_description() -> Response:
    """The OGC API's service description: the OpenAPI 3.1 document of the paths under /ogc."""
    return _json(openapi.document(current_app, prefix="/ogc"),
                 "application/vnd.oai.openapi+json;version=3.1")


@bp.get("/conformance")
def conformance() -> Response:
    """OGC API conformance declaration: the conformance classes implemented.

    Query: ``f`` (json|html)."""
    doc = features.conformance()
    return _page("conformance.html", doc=doc) if _wants_html() else _json(doc)


@bp.get("/collections")
def collections() -> Response:
    """OGC API collections: every collection the caller may read, with its CRS list and links.

    Query: ``f`` (json|html), ``lang``."""
    ctx = _ctx()
    doc = features.collections_doc(ctx)
    return _page("collections.html", doc=doc) if _wants_html() else _json(
        doc, private=ctx.principal.signed_in)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """OGC API collection: one collection's title, extent, CRS list (``storageCrs``) and links.

    Query: ``f`` (json|html), ``lang``."""
    ctx = _ctx()
    doc = features.collection_doc(ctx, collection_id)
    return _page("collection.html", doc=doc) if _wants_html() else _json(
        doc, private=ctx.principal.signed_in)


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    """OGC API queryables: the properties a CQL2 filter may name, as a JSON Schema.

    Query: ``lang``."""
    ctx = _ctx()
    return _json(features.queryables(ctx, collection_id), "application/schema+json",
                 private=ctx.principal.signed_in)


@bp.get("/collections/<collection_id>/sortables")
def sortables(collection_id: str) -> Response:
    """OGC API sortables: the properties ``sortby`` may name, as a JSON Schema.

    Query: ``lang``."""
    ctx = _ctx()
    return _json(features.queryables(ctx, collection_id, only_sortable=True),
                 "application/schema+json", private=ctx.principal.signed_in)


def _for_map(ctx: features.Context, html: bool) -> dict[str, str]:
    """The request's arguments; for a page, with geometries in CRS84 for its map (a ``crs``
    asked for is still checked, and the JSON alternate keeps it)."""
    args = request.args.to_dict()
    if html and "crs" in args:
        crs_refs.parse(args["crs"], features.offered_crs(ctx.factory), "crs")
        args["crs"] = crs_refs.CRS84
    return args


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """OGC API items: a page of features (GeoJSON, streamed) with next/prev keyset links.

    Query: see :data:`gridmap.ogc.query.ITEMS_PARAMETERS` (limit, bbox, bbox-crs, crs,
    datetime, filter, filter-lang, filter-crs, sortby, properties, cursor, f, lang, and
    property=value)."""
    ctx = _ctx()
    html = _wants_html()
    url = url_for("ogc.items", collection_id=collection_id, _external=True)
    answer = features.items(ctx, collection_id, _for_map(ctx, html), self_url=url)
    if html:
        doc = json.loads("".join(answer.chunks))
        coll = features.collection_doc(ctx, collection_id)
        return _page("items.html", doc=doc, coll=coll, headers=answer.headers,
                     parameters=query.ITEMS_PARAMETERS)
    response = Response(streamed(answer.chunks), mimetype=features.GEOJSON, headers=answer.headers)
    if answer.personal:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    """OGC API feature: one feature by id (GeoJSON or HTML).

    Query: ``crs``, ``f`` (json|html), ``lang``."""
    ctx = _ctx()
    html = _wants_html()
    body, headers, personal = features.item(ctx, collection_id, feature_id,
                                            _for_map(ctx, html))
    if html:
        coll = features.collection_doc(ctx, collection_id)
        return _page("item.html", doc=json.loads(body), coll=coll)
    response = Response(body, mimetype=features.GEOJSON, headers=headers)
    if personal:
        response.headers["Cache-Control"] = "private, no-store"
    return response
