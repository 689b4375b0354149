"""OpenAPI detail of the coverage endpoints (merged over the URL map's baseline; see
:mod:`gridmap.web.openapi`). Fields as coverage/web/params.py parses them."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import BBOX, BOOLEAN, INTEGER, NUMBER, STRING, json_body, ok, query

QUERY = [query("type", STRING, "facility type code", required=True),
         query("circle", STRING, "life circle code (5min, 10min, 15min)", required=True),
         query("level", {"type": "string", "enum": ["district", "subdistrict", "community",
                                                    "grid"]}),
         query("parent", STRING, "code of the area whose children are listed"),
         query("area", STRING, "district, sub-district or community code"),
         query("zoom", {**INTEGER, "minimum": 0, "maximum": 24}), query("bbox", BBOX),
         query("min_share", {**NUMBER, "minimum": 0, "maximum": 1})]
_POINTS = {"type": "array", "items": {"type": "array", "items": NUMBER,
                                      "minItems": 2, "maxItems": 2}}
_RULE = {"type": STRING, "circle": STRING}
_REMOVE = {"type": "array", "items": {"type": ["integer", "string"]},
           "description": "facility ids or codes to close"}
_READS = ("areas", "areas_csv", "areas_geojson", "audit_json", "audit_csv", "audit_geojson",
          "buildings_csv", "buildings_geojson", "catchments", "distances")

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    **{f"coverage.{name}": {"get": {"parameters": QUERY}} for name in _READS},
    "coverage.runs": {"get": {"parameters": [query("area", STRING)],
                              "responses": {"200": ok({"type": "object"})}}},
    "coverage.siting_sites": {"post": {
        "requestBody": json_body({**_RULE, "area": STRING, "k": INTEGER,
                                  "max_candidates": INTEGER, "background": BOOLEAN,
                                  "candidates": {"type": "object",
                                                 "description": "GeoJSON points (WGS84)"}},
                                 ["type", "circle", "area"]),
        "responses": {"200": ok({"type": "object"}),
                      "202": ok({"type": "object"}, "started as a job")}}},
    "coverage.what_if": {"post": {
        "requestBody": json_body({**_RULE, "level": STRING, "add": _POINTS,
                                  "remove": _REMOVE},
                                 ["type", "circle"]),
        "responses": {"200": ok({"type": "object"})}}},
    "coverage.save_scenario": {"post": {
        "requestBody": json_body({**_RULE, "level": STRING, "add": _POINTS, "remove": _REMOVE,
                                  "name": {**STRING, "maxLength": 80},
                                  "note": {**STRING, "maxLength": 2000}},
                                 ["type", "circle", "name"]),
        "responses": {"201": ok({"type": "object"}, "saved: its id, API and page URLs")}}},
    "coverage.scenarios_list": {"get": {"responses": {"200": ok({"type": "object"})}}},
    "coverage.scenario": {"get": {"responses": {"200": ok({"type": "object"})}}},
    "coverage.delete_scenario": {"delete": {"responses": {"200": ok({"type": "object"})}}},
    "coverage.compare_scenarios": {"get": {
        "parameters": [query("ids", STRING, "2-3 scenario ids, comma-separated (1,2,3)",
                             required=True)],
        "responses": {"200": ok({"type": "object"})}}},
    "coverage.start_compute": {"post": {
        "requestBody": json_body({**_RULE, "all": BOOLEAN, "if_missing": BOOLEAN}),
        "responses": {"202": ok({"type": "object"}, "started (the job)"),
                      "200": ok({"type": "object"})}}},
    "coverage.compute_jobs_list": {"get": {"parameters": [query("active", BOOLEAN)],
                                           "responses": {"200": ok({"type": "object"})}}},
}
