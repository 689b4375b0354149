"""OpenAPI detail of the inbox endpoints (see :mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import BOOLEAN, ok, query

_ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": ["supervision", "dispatch", "whistle", "return"]},
    "case_id": {"type": ["integer", "null"]}, "text": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
    "read_at": {"type": ["string", "null"], "format": "date-time"},
    "read": {"type": "boolean"}}}
_UNREAD = {"unread": {"type": "integer", "minimum": 0}}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "inbox.listing": {"get": {
        "parameters": [query("unread", BOOLEAN, "only unread items"),
                       query("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
        "responses": {"200": ok({"type": "object", "properties": {
            "items": {"type": "array", "items": _ITEM}, **_UNREAD}})}}},
    "inbox.unread": {"get": {"responses": {"200": ok({"type": "object",
                                                       "properties": _UNREAD})}}},
    "inbox.mark_read": {"post": {"responses": {"200": ok({"type": "object", "properties": {
        "item": _ITEM, **_UNREAD}})}}},
    "inbox.mark_all_read": {"post": {"responses": {"200": ok({"type": "object", "properties": {
        "marked": {"type": "integer"}, **_UNREAD}})}}},
}
