"""OpenAPI detail of the Party layer and volunteer endpoints (see :mod:`gridmap.web.openapi`)."""

from __future__ import annotations

from typing import Any

from gridmap.web.openapi import BOOLEAN, INTEGER, NUMBER, STRING, area_query, json_body, ok, query

_OBJECT = {"type": "object"}
_GEO = ok(_OBJECT, media="application/geo+json")
_SKILLS = {"type": "array", "items": STRING}
_NO_STORE = "private, no-store: may hold personal data, shown only to staff in scope"


def _geo(description: str) -> dict[str, Any]:
    return {"get": {"description": description, "parameters": area_query(),
                    "responses": {"200": _GEO}}}


OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "party.counts": {"get": {"parameters": area_query(), "responses": {"200": ok(_OBJECT)}}},
    "party.grids_geojson": _geo("Counts per grid; households of 1-4 null outside one's scope"),
    "party.branches_geojson": _geo("Branches as the union of their grids"),
    "party.groups_geojson": _geo("Groups as points; leader only for staff in scope"),
    "party.households_geojson": _geo(_NO_STORE),
    "volunteers.reference": {"get": {"responses": {"200": ok(_OBJECT)}}},
    "volunteers.community": {"get": {"description": _NO_STORE,
                                     "responses": {"200": ok(_OBJECT)}}},
    "volunteers.task_list": {"get": {"parameters": [query("state", STRING),
                                                    query("limit", INTEGER)],
                                     "responses": {"200": ok(_OBJECT)}}},
    "volunteers.create_team": {"post": {"requestBody": json_body(
        {"community_code": STRING, "name": STRING, "skills": _SKILLS},
        ("community_code", "name")), "responses": {"201": ok(_OBJECT, "Created")}}},
    "volunteers.add_volunteer": {"post": {"requestBody": json_body(
        {"name": STRING, "phone": STRING, "skills": _SKILLS, "availability": STRING,
         "leader": BOOLEAN}, ("name",)), "responses": {"201": ok(_OBJECT, "Created")}}},
    "volunteers.publish_task": {"post": {"requestBody": json_body(
        {"team_id": INTEGER, "case_id": INTEGER, "visit_id": INTEGER, "title": STRING,
         "detail": STRING}, ("team_id", "title")),
        "responses": {"201": ok(_OBJECT, "Created")}}},
    "volunteers.accept_task": {"post": {"requestBody": json_body(
        {"volunteer_id": INTEGER}, ("volunteer_id",)), "responses": {"200": ok(_OBJECT)}}},
    "volunteers.complete_task": {"post": {"requestBody": json_body(
        {"hours": NUMBER, "note": STRING}, ("hours",)), "responses": {"200": ok(_OBJECT)}}},
    "volunteers.cancel_task": {"post": {"requestBody": json_body(
        {"reason": STRING}, ("reason",)), "responses": {"200": ok(_OBJECT)}}},
    "volunteers.import_file": {"post": {"requestBody": {"content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}, "dry_run": BOOLEAN}}}}},
        "responses": {"200": ok(_OBJECT, "Dry run"), "201": ok(_OBJECT, "Imported")}}},
}
