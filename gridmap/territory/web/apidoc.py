"""OpenAPI detail of the territory endpoints (merged over the URL map's baseline; see
:mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import BBOX, CRS, GEOJSON, INTEGER, NUMBER, STRING, area_query, ok, query

_HEALTH = {"type": "object", "required": ["status"],
           "properties": {"status": {"type": "string"},
                          "checks": {"type": "object",
                                     "additionalProperties": {"type": "string"}}}}
_NOT_MODIFIED = {"description": "未变化 (the ETag sent in If-None-Match is still current)",
                 "headers": {"ETag": {"schema": STRING}}}
_ETAG = {"ETag": {"schema": STRING, "description": "weak; from the layer's data versions, the "
                                                   "query and (staff) the caller's scope"}}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "api.health": {"get": {"responses": {"200": ok(_HEALTH)}}},
    "api.health_live": {"get": {"responses": {"200": ok(_HEALTH)}}},
    "api.health_ready": {"get": {"responses": {
        "200": ok(_HEALTH, "ready, or degraded (a feature's check failed)"),
        "503": ok(_HEALTH, "not ready (database down or not migrated)",
                  headers={"Retry-After": {"schema": STRING}})}}},
    "api.meta": {"get": {"responses": {"200": ok({"type": "object"})}}},
    "api.locate": {"get": {
        "parameters": [query("lon", NUMBER, required=True), query("lat", NUMBER, required=True),
                       query("crs", CRS)],
        "responses": {"200": ok({"type": "object"})}}},
    "api.search": {"get": {
        "parameters": [query("q", {"type": "string", "minLength": 1, "maxLength": 100},
                             "名称或代码 (name or code)", required=True),
                       query("limit", {**INTEGER, "minimum": 1, "maximum": 50})],
        "responses": {"200": ok({"type": "object", "required": ["results"],
                                 "properties": {"results": {"type": "array"}}})}}},
    "api.layer": {"get": {
        "parameters": [
            {"name": "name", "in": "path", "required": True,
             "schema": {"type": "string", "enum": ["districts", "subdistricts", "communities",
                                                   "grids", "buildings", "streets",
                                                   "facilities"]}},
            query("zoom", {**INTEGER, "minimum": 0, "maximum": 24},
                  "map zoom: simplified geometry and a feature cap (truncated: true)"),
            query("bbox", BBOX), *area_query(),
            query("type", STRING, "facility type code (facilities only)"),
            {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING}],
        "responses": {"200": ok(GEOJSON, media="application/geo+json", headers=_ETAG),
                      "304": _NOT_MODIFIED}}},
}
