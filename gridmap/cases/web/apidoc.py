"""OpenAPI detail of the case endpoints and Open311 GeoReport v2 (merged over the URL map's
baseline; see :mod:`gridmap.web.openapi`). Fields as the handlers parse them (cases/web/api.py,
services/board.py's filters, open311/web.py)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import (
    BBOX,
    BOOLEAN,
    CRS,
    DAY,
    ERRORS,
    INTEGER,
    NUMBER,
    STRING,
    area_query,
    form_body,
    json_body,
    ok,
    query,
)

_CODE = {"type": "string", "pattern": "^[a-z0-9_]{1,40}$"}
BOARD = [query("state", STRING, "states, comma-separated"), *area_query(),
         query("grid", {"type": "string", "pattern": "^[0-9]{15}$"}),
         query("from", DAY), query("to", DAY), query("category", _CODE),
         query("department", _CODE), query("overdue", BOOLEAN)]
_INTAKE: dict[str, dict[str, Any]] = {
    "category": _CODE, "description": {"type": "string", "maxLength": 2000},
    "channel": STRING, "lon": NUMBER, "lat": NUMBER, "crs": CRS, "address": STRING,
    "reporter_name": STRING, "reporter_phone": STRING, "client_token": STRING,
    "grid_code": STRING, "confirm_new": BOOLEAN, "link_to": INTEGER,
    "photos": {"type": "array", "items": {"type": "string", "contentMediaType": "image/jpeg"}},
}
_ACTION = {"action": STRING, "version": INTEGER, "note": STRING, "department": STRING,
           "departments": {"type": "array", "items": STRING}, "rating": STRING,
           "reason": STRING}
_INTAKE_ANSWER = {"type": "object", "required": ["status"],
                  "properties": {"status": {"enum": ["created", "existing", "linked",
                                                     "choose_grid", "possible_duplicates"]},
                                 "case_id": {"type": ["integer", "null"]},
                                 "candidates": {"type": "array"}}}
_NO_STORE = "private, no-store: a resident's data"

_O311_ERROR: dict[str, Any] = {"type": "array", "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": ["integer", "string"]}, "description": {"type": "string"}}}}
_FORMAT = {"name": "fmt", "in": "path", "required": True,
           "schema": {"type": "string", "enum": ["json", "xml"]}}


def _open311(ok_schema: dict[str, Any], *codes: int) -> dict[str, Any]:
    """Open311's own answers: json or xml, and its error list for every error."""
    content = {"application/json": {"schema": ok_schema}, "text/xml": {"schema": STRING}}
    errors = {"application/json": {"schema": _O311_ERROR}, "text/xml": {"schema": STRING}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    for code in codes:
        responses[str(code)] = {"description": ERRORS[code], "content": errors}
    return {"parameters": [_FORMAT], "responses": responses, "tags": ["open311"]}


_O311_CODES = (400, 404, 405, 429, 503)

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "cases.categories": {"get": {"responses": {"200": ok({"type": "array"})}}},
    "cases.create": {"post": {
        "requestBody": json_body(_INTAKE, ["category", "description", "lon", "lat"],
                                 multipart=True),
        "responses": {"201": ok(_INTAKE_ANSWER, "filed"), "200": ok(_INTAKE_ANSWER),
                      "409": ok({"anyOf": [_INTAKE_ANSWER, {"$ref": "#/components/schemas/Error"}]},
                                "a question (which grid? a duplicate?) or a conflict")}}},
    "cases.board": {"get": {
        "parameters": [*BOARD, query("cursor", STRING),
                       query("limit", {**INTEGER, "minimum": 1, "maximum": 200})],
        "responses": {"200": ok({"type": "object"})}}},
    "cases.board_csv": {"get": {"parameters": BOARD}},
    "cases.board_geojson": {"get": {"parameters": BOARD}},
    "case_map.points": {"get": {"parameters": [*BOARD, query("bbox", BBOX)]}},
    "case_dashboard.stats": {"get": {"parameters": [
        query("level", STRING, required=True), query("code", STRING, required=True),
        query("from", DAY), query("to", DAY)]}},
    "cases.detail": {"get": {"description": _NO_STORE, "responses": {
        "200": ok({"type": "object"})}}},
    "cases.act": {"post": {
        "description": "Take a workflow action at the case's current ``version``. The answer is "
                       "the case as the actor now reads it; when the action leaves it outside "
                       "the actor's scope (a department returning it), ``{\"id\": …, "
                       "\"out_of_scope\": true}``.",
        "requestBody": json_body(_ACTION, ["action", "version"], multipart=True),
        "responses": {"200": ok({"type": "object"})}}},
    "cases.reporter_phone": {"post": {"responses": {"200": ok({"type": "object"})}}},
    "cases.media": {"get": {"responses": {"200": {
        "description": "a case's photo (scope-checked)",
        "content": {"image/jpeg": {"schema": STRING}, "image/png": {"schema": STRING},
                    "image/webp": {"schema": STRING}}}}}},
    "open311.services": {"get": {**_open311({"type": "array"}, *_O311_CODES),
                                 "parameters": [_FORMAT, query("locale", STRING)]}},
    "open311.service_definition": {"get": _open311({"type": "object"}, *_O311_CODES)},
    "open311.list_requests": {"get": {
        **_open311({"type": "array"}, *_O311_CODES),
        "parameters": [_FORMAT, query("service_request_id", STRING),
                       query("service_code", STRING),
                       query("status", {"type": "string", "enum": ["open", "closed"]}),
                       query("start_date", STRING), query("end_date", STRING),
                       query("locale", STRING)]}},
    "open311.get_request": {"get": _open311({"type": "array"}, *_O311_CODES)},
    "open311.create_request": {"post": {
        **_open311({"type": "array"}, *_O311_CODES, 403, 413),
        "security": [{"open311_key": []}],
        "requestBody": form_body({
            "api_key": STRING, "service_code": STRING, "lat": NUMBER, "long": NUMBER,
            "crs": CRS, "media_url": STRING, "description": STRING, "address_string": STRING,
            "first_name": STRING, "last_name": STRING, "phone": STRING, "device_id": STRING,
            "token": STRING, "jurisdiction_id": STRING},
            ["api_key", "service_code"])}},
}
