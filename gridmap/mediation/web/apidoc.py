"""OpenAPI detail of the mediation endpoints (see :mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.mediation import rules
from gridmap.web.openapi import STRING, area_query, form_body, json_body, ok, query

_OBJECT = {"type": "object"}
_STRINGS = {"type": "array", "items": STRING}
_NEW = {"kind": {"type": "string", "enum": list(rules.KINDS)}, "summary": STRING,
        "party_role": {"type": "array", "items": {"type": "string",
                                                  "enum": list(rules.PARTY_ROLES)}},
        "party_name": _STRINGS, "party_phone": _STRINGS, "party_address": _STRINGS,
        "community": STRING, "case_id": {"type": "integer"}, "mediators": _STRINGS}
_STEP = {"action": {"type": "string", "enum": [a.value for a in rules.Action]},
         "note": STRING, "held_on": {"type": "string", "format": "date"}, "present": _STRINGS,
         "mediators": _STRINGS}
_NO_STORE = ("private, no-store: parties are masked unless the reader is staff whose scope "
             "holds the point's area or the dispute's mediator; every unmasked answer is logged")


def _body(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    both = json_body(properties, required)
    both["content"].update(form_body(properties, required)["content"])
    return both


OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "mediation.reference": {"get": {"responses": {"200": ok(_OBJECT)}}},
    "mediation.counts": {"get": {"parameters": area_query(), "responses": {"200": ok(_OBJECT)}}},
    "mediation.point_list": {"get": {"parameters": area_query(),
                                     "responses": {"200": ok(_OBJECT)}}},
    "mediation.point_disputes": {"get": {
        "description": _NO_STORE,
        "parameters": [query("state", {"type": "string",
                                       "enum": [s.value for s in rules.STATES]})],
        "responses": {"200": ok(_OBJECT)}}},
    "mediation.create_dispute": {"post": {
        "description": "Parties as parallel lists (party_role[i], party_name[i], …).",
        "requestBody": _body(_NEW, ("kind", "summary", "party_role", "party_name")),
        "responses": {"201": ok(_OBJECT, "Created")}}},
    "mediation.dispute": {"get": {"description": _NO_STORE, "responses": {"200": ok(_OBJECT)}}},
    "mediation.take_step": {"post": {"requestBody": _body(_STEP, ("action",)),
                                     "responses": {"200": ok(_OBJECT)}}},
}
