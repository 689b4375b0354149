"""OpenAPI detail of the scorecard endpoints (see :mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import STRING, json_body, ok, query

_MONTH = query("month", {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
               "a Shenyang calendar month (default: the last complete one)")
_AREA = query("area", {"type": "string", "pattern": "^[0-9]{6}([0-9]{3}){0,2}$"},
              "a district, sub-district or community inside the reader's area")
_LEVEL = {"name": "level", "in": "path", "required": True,
          "schema": {"type": "string", "enum": ["grid", "community", "subdistrict", "department"]}}
_ROWS = {"type": "object", "required": ["level", "month", "columns", "rows"],
         "properties": {"level": {"type": "string"}, "month": {"type": "string"},
                        "previous_month": {"type": "string"},
                        "area": {"type": ["string", "null"]},
                        "columns": {"type": "array"}, "rows": {"type": "array"}}}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "scorecards.page": {"get": {"responses": {"200": ok({"type": "string"}, media="text/html")}}},
    "scorecards.scorecard": {"get": {"parameters": [_LEVEL, _MONTH, _AREA],
                                     "responses": {"200": ok(_ROWS)}}},
    "scorecards.scorecard_csv": {"get": {"parameters": [_LEVEL, _MONTH, _AREA],
                                         "responses": {"200": ok({"type": "string"},
                                                                 media="text/csv")}}},
    "scorecards.workbook": {"get": {"parameters": [_MONTH, _AREA],
                                    "responses": {"200": ok({"type": "string",
                                                             "format": "binary"}, media=_XLSX)}}},
    "scorecards.start_workbook": {"post": {
        "requestBody": json_body({"month": {**STRING, "description": "YYYY-MM, a Shenyang "
                                            "calendar month (default: the last complete one)"},
                                  "area": {**STRING, "description": "district, sub-district or "
                                           "community code inside the reader's area (default: "
                                           "all of it)"}}, []),
        "responses": {"202": ok({"type": "object"}, "started (the job; follow it at "
                                "/api/jobs/<id>)"),
                      "200": ok({"type": "object"}, "the same workbook already under way")}}},
    "scorecards.workbook_file": {"get": {"responses": {
        "200": ok({"type": "string", "format": "binary"}, media=_XLSX)}}},
}
