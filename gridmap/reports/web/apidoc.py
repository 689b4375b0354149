"""OpenAPI detail of the report endpoints (merged over the URL map's baseline; see
:mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import INTEGER, STRING, json_body, ok

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "reports.start_report": {"post": {
        "requestBody": json_body({"type": STRING, "circle": STRING,
                                  "area": {**STRING, "description": "district, sub-district or "
                                           "community code (default: the planner's district)"},
                                  "sites": {**INTEGER, "minimum": 0, "maximum": 20}},
                                 ["type", "circle"]),
        "responses": {"202": ok({"type": "object"}, "started (the job)"),
                      "200": ok({"type": "object"}, "the same report already under way")}}},
    "reports.reports_list": {"get": {"responses": {"200": ok({"type": "object"})}}},
    "reports.report_file": {"get": {"responses": {
        "200": {"description": "the PDF or the self-contained HTML map",
                "content": {"application/pdf": {"schema": {"type": "string",
                                                           "format": "binary"}},
                            "text/html": {"schema": {"type": "string"}}}}}}},
}
