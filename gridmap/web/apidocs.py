"""The HTTP API's OpenAPI document and its docs page (public: they describe, they hold no data).

``/api/openapi.json`` is built from the URL map by :mod:`gridmap.web.openapi`; ``/api/docs``
draws it with Swagger UI, served from ``node_modules`` like every front-end library here.
Swagger UI was chosen over Redoc, RapiDoc and Stoplight Elements because its npm package ships
a ready bundle and stylesheet that work offline with no build step and no font or script from a
CDN, it reads OpenAPI 3.1, and it runs under this site's strict CSP (scripts from 'self' only;
its one init script is ``static/js/apidocs.js``).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from gridmap.web import caching, openapi

bp = Blueprint("apidocs", __name__, url_prefix="/api")


@bp.get("/openapi.json")
@openapi.documented(summary="本接口的 OpenAPI 3.1 文档 (this API's OpenAPI 3.1 document)",
                    responses={"200": openapi.ok({"type": "object", "required": ["openapi"]},
                                                 media="application/vnd.oai.openapi+json")})
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of the whole HTTP API."""
    document = openapi.document(current_app)
    tag = caching.etag(document)
    unchanged = caching.not_modified(tag, private=False)
    if unchanged is not None:
        return unchanged
    response = jsonify(document)
    response.mimetype = "application/vnd.oai.openapi+json"
    return caching.validated(response, tag, private=False)


@bp.get("/docs")
@openapi.documented(responses={"200": openapi.ok(openapi.STRING, media="text/html")})
def docs_page() -> str:
    """The API's reference page (Swagger UI over /api/openapi.json)."""
    return render_template("apidocs/docs.html")
