"""OpenAPI detail of the job endpoints (see :mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import BOOLEAN, ok, query

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "jobs.listing": {"get": {"parameters": [query("active", BOOLEAN)],
                             "responses": {"200": ok({"type": "object"})}}},
    "jobs.job": {"get": {"responses": {"200": ok({"type": "object"})}}},
    "jobs.cancel": {"post": {"responses": {"200": ok({"type": "object"})}}},
}
