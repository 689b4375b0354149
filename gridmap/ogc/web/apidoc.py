"""OpenAPI detail of the OGC API Features endpoints (merged over the URL map's baseline; see
:mod:`gridmap.web.openapi`): the query parameters as :mod:`gridmap.ogc.query` accepts them, and
the media types each answers in."""

from __future__ import annotations

from typing import Any

from gridmap.ogc.query import COMMON_PARAMETERS, FEATURE_PARAMETERS, ITEMS_PARAMETERS, MAX_LIMIT
from gridmap.web.openapi import ERRORS, INTEGER, STRING, query

EXCEPTION = {"type": "object", "required": ["code"], "properties": {
    "code": {"type": "string", "description": "OGC API exception type, e.g. InvalidParameterValue"},
    "description": {"type": "string", "description": "中文 (English): safe to show"}}}
"""OGC API's exception body: every error under /ogc answers in it (not gridmap's own)."""
_ERRORS = {str(code): {"description": text, "content": {
    "application/json": {"schema": EXCEPTION}, "text/html": {"schema": STRING}}}
    for code, text in ERRORS.items() if code in (400, 401, 403, 404, 405, 429, 503)}

_SCHEMAS: dict[str, dict[str, Any]] = {
    "f": {"type": "string", "enum": ["json", "html"]},
    "lang": {"type": "string", "enum": ["zh", "en"]},
    "limit": {**INTEGER, "minimum": 1, "description": f"clamped to {MAX_LIMIT}"},
    "filter-lang": {"type": "string", "enum": ["cql2-text", "cql2-json"]},
}


def _parameters(described: dict[str, str]) -> list[dict[str, Any]]:
    return [query(name, _SCHEMAS.get(name, STRING), text) for name, text in described.items()]


def _answers(json_media: str) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {json_media: {"schema": {"type": "object"}},
                                                     "text/html": {"schema": STRING}}},
            **_ERRORS}


_PLAIN = {"get": {"parameters": _parameters(COMMON_PARAMETERS),
                  "responses": _answers("application/json")}}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "ogc.landing": _PLAIN,
    "ogc.conformance": _PLAIN,
    "ogc.collections": _PLAIN,
    "ogc.collection": _PLAIN,
    "ogc.queryables": {"get": {"parameters": _parameters(COMMON_PARAMETERS),
                               "responses": _answers("application/schema+json")}},
    "ogc.sortables": {"get": {"parameters": _parameters(COMMON_PARAMETERS),
                              "responses": _answers("application/schema+json")}},
    "ogc.items": {"get": {"parameters": _parameters(ITEMS_PARAMETERS),
                          "responses": _answers("application/geo+json")}},
    "ogc.item": {"get": {"parameters": _parameters(FEATURE_PARAMETERS),
                         "responses": _answers("application/geo+json")}},
    "ogc.service_description": {"get": {"responses": {"200": {
        "description": "the OpenAPI 3.1 document of the paths under /ogc",
        "content": {"application/vnd.oai.openapi+json;version=3.1": {
            "schema": {"type": "object"}}}}, **_ERRORS}}},
    # OGC API Tiles (the tiles feature's views, under /ogc): their errors too are OGC's.
    "tiles.ogc_tilesets": {"get": {"responses": dict(_ERRORS)}},
    "tiles.ogc_tileset": {"get": {"responses": dict(_ERRORS)}},
    "tiles.ogc_tile": {"get": {"responses": dict(_ERRORS)}},
}
