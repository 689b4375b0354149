"""OpenAPI detail of the care register endpoints (see :mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import BOOLEAN, NUMBER, STRING, area_query, form_body, json_body, ok, query

_MONTH = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}
_OBJECT = {"type": "object"}
_ENTRY = {"building_code": STRING, "name": {"type": "string", "maxLength": 50},
          "reasons": {"type": "array", "items": STRING}, "unit": STRING, "household": STRING,
          "phone": STRING, "carer": STRING, "note": STRING}
_VISIT = {"findings": STRING, "needs_help": BOOLEAN,
          "visited_at": {"type": "string", "format": "date-time"}, "lon": NUMBER,
          "lat": NUMBER, "category": STRING, "share_contact": BOOLEAN,
          "client_token": {"type": "string", "maxLength": 64}}
_EXPLAIN = {"month": _MONTH, "reason": STRING}
_REPORT = {"no_new_difficulty": BOOLEAN, "note": STRING}
_NO_STORE = "private, no-store: residents' personal data"
_OVERVIEW = [*area_query(), query("month", _MONTH), query("problems_only", BOOLEAN)]


def _body(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    both = json_body(properties, required)
    both["content"].update(form_body(properties, required)["content"])
    return both


OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "care.reference": {"get": {"responses": {"200": ok(_OBJECT)}}},
    "care.counts": {"get": {"parameters": area_query(), "responses": {"200": ok(_OBJECT)}}},
    "care.create_entry": {"post": {"requestBody": _body(_ENTRY, ("building_code", "name",
                                                                 "reasons")),
                                   "responses": {"201": ok(_OBJECT, "Created")}}},
    "care.grid_entries": {"get": {"description": _NO_STORE,
                                  "responses": {"200": ok(_OBJECT)}}},
    "care.entry": {"get": {"description": _NO_STORE, "responses": {"200": ok(_OBJECT)}}},
    "care.close_entry": {"post": {"requestBody": _body({"reason": STRING}, ("reason",)),
                                  "responses": {"200": ok(_OBJECT)}}},
    "care.log_visit": {"post": {"requestBody": _body(_VISIT),
                                "responses": {"201": ok(_OBJECT, "Created"),
                                              "200": ok(_OBJECT, "Already saved (client_token)")}}},
    "care.explain": {"post": {"requestBody": _body(_EXPLAIN, ("month", "reason")),
                              "responses": {"200": ok(_OBJECT)}}},
    "care.month_checklist": {"get": {"description": _NO_STORE,
                                     "responses": {"200": ok(_OBJECT)}}},
    "care.submit_report": {"post": {"requestBody": _body(_REPORT, ("no_new_difficulty",)),
                                    "responses": {"201": ok(_OBJECT, "Created")}}},
    "care.overview": {"get": {"parameters": _OVERVIEW, "responses": {"200": ok(_OBJECT)}}},
    "care.overview_geojson": {"get": {"parameters": _OVERVIEW, "responses": {
        "200": ok(_OBJECT, media="application/geo+json")}}},
}
