"""OpenAPI detail of the data exchange endpoints: imports, exports, map edits (merged over the
URL map's baseline; see :mod:`gridmap.web.openapi`). Fields as exchange/web/params.py reads
them."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import (
    BOOLEAN,
    CRS,
    NUMBER,
    STRING,
    area_query,
    form_body,
    json_body,
    ok,
    query,
)

_FACILITY = {"type": STRING, "name": STRING, "capacity": {"type": ["integer", "null"]},
             "hours": STRING, "lon": NUMBER, "lat": NUMBER, "crs": CRS}
_REPORT_FMT = {"name": "fmt", "in": "path", "required": True,
               "schema": {"type": "string", "enum": ["json", "csv", "geojson"]}}
_GEOMETRY = {"type": "object", "description": "GeoJSON geometry"}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "exchange.start_import": {"post": {
        "requestBody": form_body({
            "layer": STRING, "crs": STRING, "encoding": STRING, "mode": STRING,
            "source": STRING, "licence": STRING, "repair": BOOLEAN, "whole_layer": BOOLEAN,
            "dry_run": BOOLEAN, "tolerance": NUMBER, "mapping": STRING,
            "upload": {"type": "string", "contentMediaType": "application/octet-stream"},
            "upload_name": STRING, "source_layer": STRING}, ["layer", "upload"]),
        "responses": {"202": ok({"type": "object"}, "import started (the job)")}}},
    "exchange.import_report": {"get": {"parameters": [_REPORT_FMT], "responses": {"200": {
        "description": "the import's report",
        "content": {"application/json": {"schema": {}}, "text/csv": {"schema": STRING},
                    "application/geo+json": {"schema": {}}}}}}},
    "exchange.export": {"get": {
        "parameters": [query("crs", STRING), *area_query(), query("type", STRING),
                       query("encoding", STRING)],
        "responses": {"200": {"description": "the layer in the chosen format",
                              "content": {"application/octet-stream": {"schema": STRING},
                                          "application/geo+json": {"schema": {}},
                                          "text/csv": {"schema": STRING},
                                          "application/zip": {"schema": STRING},
                                          "application/geopackage+sqlite3": {
                                              "schema": STRING}}}}}},
    "exchange.add_facility": {"post": {
        "requestBody": json_body(_FACILITY, ["type", "name", "lon", "lat"]),
        "responses": {"201": ok({"type": "object"}, "added")}}},
    "exchange.change_facility": {"post": {
        "requestBody": json_body({"op": {"type": "string", "enum": ["move", "update", "retire"]},
                                  **_FACILITY}, ["op"]),
        "responses": {"200": ok({"type": "object"})}}},
    "exchange.facility_changes": {"get": {"parameters": [query("code", STRING)]}},
    "exchange.grid_changes": {"get": {"parameters": [query("code", STRING)]}},
    "exchange.reshape_grids": {"post": {"requestBody": json_body(
        {"grids": {"type": "object", "additionalProperties": _GEOMETRY}, "crs": CRS},
        ["grids"])}},
    "exchange.split_grid": {"post": {"requestBody": json_body(
        {"line": _GEOMETRY, "names": {"type": "array", "items": STRING}, "crs": CRS},
        ["line"])}},
    "exchange.merge_grids": {"post": {"requestBody": json_body(
        {"codes": {"type": "array", "items": STRING}, "keep": STRING, "name": STRING},
        ["codes"])}},
}
