"""OpenAPI detail of the OGC API Features endpoints (merged over the URL map's baseline; see
:mod:`gridmap.web.openapi`): the query parameters as :mod:`gridmap.ogc.query` accepts them, and
the media types each answers in."""

from __future__ import annotations

from typing import Any

from gridmap.ogc.query import COMMON_PARAMETERS, FEATURE_PARAMETERS, ITEMS_PARAMETERS, MAX_LIMIT
from gridmap.web.openapi import INTEGER, STRING, query

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
                                                     "text/html": {"schema": STRING}}}}


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
            "schema": {"type": "object"}}}}}}},
}
