"""Bad input never reaches a 500: every class of malformed value, into every field of every route.

The routes come from the app's URL map; each needs an entry in ``FIELDS`` naming the query
parameters and body fields it reads (:func:`test_every_route_has_its_fields` fails otherwise),
so a new route or parameter is fuzzed from the day it is added. For each route, as an
administrator and as the first principal of the access matrix's world that may use the route,
:func:`test_bad_input` sends each value of ``BAD`` (and, in JSON bodies, of ``BAD_JSON``) into
one field at a time, on top of a base request that itself writes nothing, and into each path
argument. It checks

- no answer is a 5xx and no streamed body breaks off (an export validates before its first byte);
- every error answer on an ``/api/`` path is the JSON error shape ``{"error": {"code", "message"}}``
  and no message repeats more than a bounded piece of what was sent;
- the rows of the tables that hold cases, people and accounts are as many as before (the audit
  log may grow: refused exports and sign-ins are logged).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import test_access_matrix as matrix
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from test_access_matrix import ADMIN, PRINCIPALS, SPECS, WORKER, World, _url

world = matrix.world
"""The access matrix's world (two cases, one account per role), reused as fixtures."""

TABLES = ("case", "case_event", "case_cohandler", "case_photo", "account", "api_token",
          "open311_client", "person", "grid_member", "grid_enrollment", "department",
          "case_category", "care_entry", "care_entry_reason", "care_visit", "care_zero_report",
          "care_explanation", "party_branch", "party_group", "party_household",
          "volunteer_team", "volunteer", "volunteer_task", "dispute", "dispute_party",
          "dispute_mediator", "dispute_session", "dispute_event")
"""Tables whose row counts bad input must leave alone (``audit_log`` may grow)."""

def _cursor(number: str) -> str:
    instant = '"2024-01-01T00:00:00+00:00"'
    raw = f'{{"s": 1, "k": {instant}, "i": {number}, "n": {instant}}}'
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


BAD: dict[str, str] = {
    "nul": "ab\x00cd",
    "control": "ab\x07\x1b[31mcd\x7f",
    "long": "长" * 10_000,
    "int64": str(2**63),
    "int_huge": "9" * 5_000,
    "superscript": "²",
    "fullwidth": "１２３",
    "underscore": "1_0",
    "date_min": "0001-01-01",
    "date_max": "9999-12-31",
    "month_max": "9999-12",
    "instant_min": "0001-01-01T00:00:00+08:00",
    "infinity": "Infinity",
    "e400": "1e400",
    "cursor_inf": _cursor("Infinity"),
    "cursor_e400": _cursor("1e400"),
    "cursor_int64": _cursor(str(2**70)),
    "phone": "+86 138-0000-0000-0000",
    "zero_width": "\u200b\u200e\u200f",
    "surrogate_like": "\ufffe\uffff",
}
"""Values for every query parameter, form field, JSON member and path argument."""

BAD_JSON: dict[str, Any] = {
    "list": ["heating"],
    "empty_list": [],
    "object": {"a": 1},
    "deep": "__DEEP__",  # spliced in as text: json.dumps itself cannot nest this deep
    "number_huge": 10**30,
    "bool": True,
    "lone_surrogate": "ab\ud800cd",
}
"""Values only JSON can carry (members of a JSON body)."""

INTAKE_QUESTIONS = ("choose_grid", "possible_duplicates")
"""The intake's 409 answers that ask the reporter something (their own documented shape)."""
ECHO_LIMIT = 60
"""No message may repeat a run this long of what was sent."""


@dataclass(frozen=True)
class Fields:
    """What a route reads: query parameters, body fields and how the body is sent."""

    query: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # "json", "form", "multipart"
    base: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    base_query: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    valid: frozenset[str] = frozenset()
    """``field=class`` pairs that are good input for this route (sent, but may change data)."""


BOARD = ("state", "district", "subdistrict", "community", "grid", "from", "to", "category",
         "department", "overdue", "q", "my_grid", "my_cases")
COVERAGE = ("type", "circle", "level", "parent", "area", "zoom", "bbox", "min_share")
AUDIT = ("action", "target_kind", "since", "until", "username", "target_id", "actor_id", "after")
INTAKE = ("category", "description", "channel", "lon", "lat", "crs", "address", "reporter_name",
          "reporter_phone", "client_token", "grid_code", "confirm_new", "link_to")
ACTION = ("action", "version", "note", "department", "departments", "rating", "reason")
AREA = ("district", "subdistrict", "community")
CARE_ENTRY = ("building_code", "name", "reasons", "unit", "household", "phone", "carer", "note")
DISPUTE = ("kind", "summary", "party_role", "party_name", "party_phone", "party_address",
           "community", "case_id", "mediators")
CARE_VISIT = ("findings", "needs_help", "visited_at", "lon", "lat", "category", "share_contact",
              "client_token")
OPEN311_POST = ("api_key", "service_code", "lat", "long", "media_url", "crs", "description",
                "address_string", "first_name", "last_name", "phone", "device_id", "token",
                "jurisdiction_id")


def _duplicate_of_a(w: World) -> dict[str, Any]:
    # Case A's category at case A's point, without confirm_new: a possible duplicate (409),
    # so a base request that survives its one bad field still writes nothing.
    grid = w.grids["A"]
    return {"category": "heating", "description": "重复", "lon": grid["lon"], "lat": grid["lat"],
            "grid_code": grid["code"]}


def _stale_action(w: World) -> dict[str, Any]:
    return {"action": "dispatch", "version": 999, "department": w.values["department"]}


def _open311(w: World) -> dict[str, Any]:
    # An unknown service: every field is parsed, then the request is refused (400).
    grid = w.grids["A"]
    return {"api_key": w.values["open311_key"], "service_code": "no_such_service",
            "lat": grid["lat"], "long": grid["lon"]}


def _coverage_query(w: World) -> dict[str, Any]:
    return {"type": "elder_care_station", "circle": "15min", "level": "community"}


FIELDS: dict[str, Fields] = {
    "GET pages.map_page": Fields(),
    "GET api.health": Fields(),
    "GET api.health_live": Fields(),
    "GET api.health_ready": Fields(),
    "GET metrics.metrics_page": Fields(),
    "GET api.meta": Fields(),
    "GET api.layer": Fields(query=("zoom", "bbox", "district", "subdistrict", "community",
                                   "type")),
    "GET api.locate": Fields(query=("lon", "lat", "crs")),
    "GET api.search": Fields(query=("q", "limit")),
    "GET tiles.tile": Fields(),
    "GET tiles.tilejson": Fields(),
    "GET tiles.ogc_tile": Fields(),
    "GET tiles.ogc_tilesets": Fields(),
    "GET tiles.ogc_tileset": Fields(),
    "GET static": Fields(),
    "GET assets.vendor_file": Fields(),
    "GET apidocs.openapi_json": Fields(),
    "GET apidocs.docs_page": Fields(),
    "GET ogc.landing": Fields(query=("f", "lang")),
    "GET ogc.service_description": Fields(),
    "GET ogc.conformance": Fields(query=("f",)),
    "GET ogc.collections": Fields(query=("f", "lang")),
    "GET ogc.collection": Fields(query=("f", "lang")),
    "GET ogc.queryables": Fields(query=("lang",)),
    "GET ogc.sortables": Fields(query=("lang",)),
    "GET ogc.items": Fields(query=("limit", "bbox", "bbox-crs", "crs", "datetime", "filter",
                                   "filter-lang", "filter-crs", "sortby", "properties", "cursor",
                                   "f", "lang", "name")),
    "GET ogc.item": Fields(query=("crs", "f", "lang")),
    "GET open311.services": Fields(query=("locale",)),
    "GET open311.service_definition": Fields(),
    "GET open311.list_requests": Fields(query=("service_request_id", "service_code", "status",
                                               "start_date", "end_date", "locale")),
    "GET open311.get_request": Fields(),
    "POST open311.create_request": Fields(body=OPEN311_POST, kinds=("form",), base=_open311),
    "GET accounts.sign_in": Fields(query=("next",)),
    "POST accounts.sign_in": Fields(body=("username", "password", "next"), kinds=("form",)),
    "POST accounts.sign_out": Fields(),
    "GET accounts.account": Fields(),
    "GET accounts.password": Fields(query=("next",)),
    "POST accounts.password": Fields(body=("current", "new", "repeat", "next"), kinds=("form",)),
    "POST accounts.create_token": Fields(body=("name",), kinds=("form",)),
    "POST accounts.revoke_token": Fields(),
    "POST accounts.change_email": Fields(body=("email",), kinds=("form",)),
    "GET cases.categories": Fields(),
    "GET cases.departments": Fields(),
    "POST cases.create": Fields(body=INTAKE, kinds=("json", "multipart"), base=_duplicate_of_a,
                                valid=frozenset({"confirm_new=bool"})),  # true: file it
    "GET cases.board": Fields(query=(*BOARD, "cursor", "limit")),
    "GET cases.board_csv": Fields(query=BOARD),
    "GET cases.board_geojson": Fields(query=BOARD),
    "GET case_map.points": Fields(query=(*BOARD, "bbox")),
    "GET case_dashboard.stats": Fields(query=("level", "code", "from", "to"),
                                       base_query=lambda w: {"level": "grid",
                                                             "code": w.grids["A"]["code"]}),
    "GET cases.detail": Fields(),
    "POST cases.act": Fields(body=ACTION, kinds=("json", "multipart"), base=_stale_action),
    "POST cases.reporter_phone": Fields(),
    "GET cases.media": Fields(),
    "GET case_pages.board": Fields(),
    "GET case_pages.case_detail": Fields(),
    "GET case_pages.new_case": Fields(),
    "GET case_map.map_page": Fields(),
    "GET case_dashboard.dashboard": Fields(),
    "GET scorecards.scorecard": Fields(query=("month", "area")),
    "GET scorecards.scorecard_csv": Fields(query=("month", "area")),
    "GET scorecards.workbook": Fields(query=("month", "area")),
    "POST scorecards.start_workbook": Fields(body=("month", "area"), kinds=("json",)),
    "GET scorecards.workbook_file": Fields(),
    "GET scorecards.page": Fields(),
    "GET care.reference": Fields(),
    "GET care_pages.visits_page": Fields(),
    "GET care_pages.overview_page": Fields(),
    "GET care_pages.month_page": Fields(query=("month",)),
    "GET care.counts": Fields(query=("district", "subdistrict", "community")),
    "POST care.create_entry": Fields(body=CARE_ENTRY, kinds=("json", "form")),
    "GET care.grid_entries": Fields(),
    "GET care.entry": Fields(),
    "POST care.log_visit": Fields(body=CARE_VISIT, kinds=("json", "form")),
    "POST care.close_entry": Fields(body=("reason",), kinds=("json", "form")),
    "POST care.explain": Fields(body=("month", "reason"), kinds=("json", "form")),
    "GET care.month_checklist": Fields(),
    # JSON true is a good answer: with no entry in grid A the month's report is filed.
    "POST care.submit_report": Fields(body=("no_new_difficulty", "note"), kinds=("json", "form"),
                                      valid=frozenset({"no_new_difficulty=bool"})),
    "GET care.overview": Fields(query=("district", "subdistrict", "community", "month",
                                       "problems_only")),
    "GET care.overview_geojson": Fields(query=("district", "subdistrict", "community", "month",
                                               "problems_only")),
    "GET party.counts": Fields(query=AREA),
    "GET party.grids_geojson": Fields(query=AREA),
    "GET party.branches_geojson": Fields(query=AREA),
    "GET party.groups_geojson": Fields(query=AREA),
    "GET party.households_geojson": Fields(query=AREA),
    "GET volunteer_pages.party_page": Fields(),
    "GET volunteer_pages.volunteers_page": Fields(query=("community", "case", "visit")),
    "GET volunteers.reference": Fields(),
    "GET volunteers.community": Fields(),
    "GET volunteers.task_list": Fields(query=("state", "limit")),
    "POST volunteers.create_team": Fields(body=("community_code", "name", "skills"),
                                          kinds=("json", "form")),
    "POST volunteers.add_volunteer": Fields(body=("name", "phone", "skills", "availability",
                                                  "leader"), kinds=("json", "form")),
    "POST volunteers.publish_task": Fields(body=("team_id", "case_id", "visit_id", "title",
                                                 "detail"), kinds=("json", "form")),
    "POST volunteers.accept_task": Fields(body=("volunteer_id",), kinds=("json", "form")),
    "POST volunteers.complete_task": Fields(body=("hours", "note"), kinds=("json", "form")),
    "POST volunteers.cancel_task": Fields(body=("reason",), kinds=("json", "form")),
    "POST volunteers.import_file": Fields(body=("dry_run", "file"), kinds=("multipart",)),
    "GET mediation.reference": Fields(),
    "GET mediation.counts": Fields(query=("district", "subdistrict", "community")),
    "GET mediation.point_list": Fields(query=("district", "subdistrict", "community")),
    "GET mediation.point_disputes": Fields(query=("state",)),
    "POST mediation.create_dispute": Fields(body=DISPUTE, kinds=("json", "form")),
    "GET mediation.dispute": Fields(),
    "POST mediation.take_step": Fields(body=("action", "note", "held_on", "present",
                                             "mediators"), kinds=("json", "form")),
    "GET mediation_pages.page": Fields(),
    "GET coverage.page": Fields(),
    "GET coverage.audit_page": Fields(),
    "GET coverage.runs": Fields(),
    **{f"GET coverage.{name}": Fields(query=COVERAGE, base_query=_coverage_query)
       for name in ("areas", "areas_csv", "areas_geojson", "audit_json", "audit_csv",
                    "audit_geojson", "buildings_csv", "buildings_geojson", "catchments",
                    "distances")},
    "POST coverage.siting_sites": Fields(body=("type", "circle", "area", "k", "max_candidates",
                                               "candidates", "background"), kinds=("json",)),
    "POST coverage.what_if": Fields(body=("type", "circle", "level", "add", "remove"),
                                    kinds=("json",)),
    "POST coverage.start_compute": Fields(body=("all", "if_missing", "type", "circle"),
                                          kinds=("json",)),
    "GET coverage.compute_jobs_list": Fields(query=("active",)),
    "GET reports.page": Fields(),
    "POST reports.start_report": Fields(body=("type", "circle", "area", "sites"), kinds=("json",)),
    "GET reports.reports_list": Fields(),
    "GET reports.report_file": Fields(),
    "POST coverage.save_scenario": Fields(body=("type", "circle", "level", "add", "remove",
                                                "name", "note"), kinds=("json",),
                                          base=lambda w: {"name": "坏输入"}),
    "GET coverage.scenarios_list": Fields(),
    "GET coverage.scenario": Fields(),
    "DELETE coverage.delete_scenario": Fields(),
    "GET coverage.scenario_csv": Fields(),
    "GET coverage.scenario_geojson": Fields(),
    "GET coverage.compare_scenarios": Fields(query=("ids",)),
    "GET coverage.scenarios_page": Fields(),
    "GET coverage.scenario_page": Fields(),
    "GET coverage.compare_page": Fields(query=("ids",)),
    "GET exchange.data_page": Fields(),
    "GET exchange.edit_page": Fields(),
    "POST exchange.start_import": Fields(body=(
        "layer", "crs", "encoding", "mode", "source", "licence", "repair", "whole_layer",
        "dry_run", "tolerance", "mapping", "upload", "upload_name", "source_layer"),
        kinds=("form",)),
    "GET exchange.import_report": Fields(),
    "POST exchange.add_facility": Fields(body=("type", "name", "capacity", "hours", "lon", "lat",
                                               "crs"), kinds=("json",)),
    "POST exchange.change_facility": Fields(body=("op", "type", "name", "capacity", "hours",
                                                  "lon", "lat", "crs"), kinds=("json",)),
    "GET exchange.facility_changes": Fields(query=("code",)),
    "GET exchange.grid_changes": Fields(query=("code",)),
    "POST exchange.reshape_grids": Fields(body=("grids", "crs"), kinds=("json",)),
    "GET exchange.grid_versions": Fields(),
    "POST exchange.split_grid": Fields(body=("line", "names", "crs"), kinds=("json",)),
    "POST exchange.merge_grids": Fields(body=("codes", "keep", "name"), kinds=("json",)),
    "GET exchange.export": Fields(query=("crs", "district", "subdistrict", "community", "type",
                                         "encoding")),
    "GET jobs.listing": Fields(query=("active",)),
    "GET jobs.job": Fields(),
    "POST jobs.cancel": Fields(),
    "GET inbox_pages.page": Fields(),
    "GET inbox.listing": Fields(query=("unread", "limit")),
    "GET inbox.unread": Fields(),
    "POST inbox.mark_read": Fields(),
    "POST inbox.mark_all_read": Fields(),
    "GET inbox_pages.rules_page": Fields(),
    "POST inbox_pages.change_rule": Fields(body=("after_hours", "active"), kinds=("form",)),
    "GET admin.index": Fields(),
    "GET admin.accounts": Fields(query=("q", "role", "after")),
    "GET admin.new_account": Fields(query=("q", "after", "person_id")),
    "POST admin.create_account": Fields(body=("username", "role", "area_code", "department_code",
                                              "person_id", "name", "phone"), kinds=("form",)),
    "GET admin.account": Fields(),
    "POST admin.change_scope": Fields(body=("role", "area_code", "department_code"),
                                      kinds=("form",)),
    "POST admin.deactivate": Fields(body=("confirm",), kinds=("form",)),
    "POST admin.reactivate": Fields(),
    "POST admin.change_email": Fields(body=("email",), kinds=("form",)),
    "POST admin.reset_password": Fields(),
    "POST admin.revoke_token": Fields(),
    "GET admin.audit_log": Fields(query=AUDIT),
    "GET admin.audit_csv": Fields(query=AUDIT),
    "GET admin.clients": Fields(),
    "POST admin.create_client": Fields(body=("name", "contact"), kinds=("form",)),
    "POST admin.revoke_client": Fields(),
    "GET assignments.grids": Fields(query=("q", "after")),
    "GET assignments.grid": Fields(query=("department", "worker_q", "staff_q")),
    "POST assignments.set_worker": Fields(body=("person_id",), kinds=("form",)),
    "POST assignments.remove_worker": Fields(),
    "POST assignments.set_enrolment": Fields(body=("department_code", "person_id"),
                                             kinds=("form",)),
    "POST assignments.remove_enrolment": Fields(),
}


def _routes(app: Flask) -> set[str]:
    return {f"{m} {r.endpoint}" for r in app.url_map.iter_rules()
            for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}


def test_every_route_has_its_fields(app: Flask) -> None:
    missing = sorted(_routes(app) - set(FIELDS))
    assert not missing, f"routes without an entry in FIELDS: {missing}"
    stale = sorted(set(FIELDS) - _routes(app))
    assert not stale, f"FIELDS names routes the app no longer has: {stale}"


def _counts(tx: Connection) -> dict[str, int]:
    # The names come from TABLES above, never from a request.
    return {t: tx.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()  # noqa: S608
            for t in TABLES}


def _users(route: str) -> list[str]:
    """An administrator, and the first principal of the matrix that may use the route."""
    spec = SPECS[route]
    users = [ADMIN]
    for who in PRINCIPALS:
        if who == ADMIN:
            continue
        if not spec.expect(who, "A") <= {302, 401, 403, 404}:
            users.append(who)
            break
    return users


def _path_variants(app: Flask, endpoint: str, world: World) -> list[tuple[str, str]]:
    """The route's URL with each path argument replaced by each bad value (percent-encoded)."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    out = []
    for name in rule.arguments:
        if name == "fmt":
            continue
        with app.test_request_context():
            from flask import url_for

            args = {a: _sentinel(app, endpoint, world, a) for a in rule.arguments}
            marked = url_for(endpoint, **{**args, name: 987654321012})
        for label, value in BAD.items():
            out.append((f"path {name}={label}",
                        marked.replace("987654321012", quote(value, safe=""))))
    return out


def _sentinel(app: Flask, endpoint: str, world: World, name: str) -> Any:
    fill = {"case_id": world.cases["A"], "request_id": world.cases["A"], "fmt": "json",
            "path": world.photos["A"], "name": world.values["layer"],
            "code": world.values["category"], "package": world.values["vendor"][0],
            "filename": "css/app.css", "token_id": 1, "client_id": 1,
            "account_id": world.accounts["A"], "department": world.values["department"],
            "job_id": 1, "item_id": 1, "scenario_id": 1, "layer": "facilities",
            "collection_id": "cases", "point_id": world.values["points"]["A"],
            "dispute_id": 2**40,
            "feature_id": world.cases["A"], "level": "grid", "entry_id": 2**40,
            "month": matrix._this_month(),
            "grid": world.grids["A"]["code"],
            "community": world.grids["A"]["code"][:12], "team_id": 2**40, "task_id": 2**40,
            "collection": "buildings", "z": 15, "x": 27624,
            "y": 12189, "tile_matrix": 15, "tile_row": 12189, "tile_col": 27624}
    if endpoint.startswith("tiles."):  # the OGC API Tiles pages of a collection with tiles
        fill["collection_id"] = "buildings"
    if endpoint == "exchange.export":
        fill["fmt"] = "csv"
    if endpoint.startswith("assignments."):
        fill["code"] = world.grids["A"]["code"]
    if endpoint == "assets.vendor_file":
        fill["path"] = world.values["vendor"][1]
    return fill[name]


def _requests(route: str, url: str, world: World) -> list[tuple[str, dict[str, Any]]]:
    """(label, keyword arguments of ``client.open``) for each bad value in each field."""
    spec = FIELDS[route]
    query = spec.base_query(world)
    out: list[tuple[str, dict[str, Any]]] = []
    for name in spec.query:
        for label, value in BAD.items():
            out.append((f"?{name}={label}", {"query_string": {**query, name: value}}))
    base = spec.base(world)
    for kind in spec.kinds:
        values: dict[str, Any] = dict(BAD)
        if kind == "json":
            values.update(BAD_JSON)
        for name in spec.body:
            for label, value in values.items():
                body = {**base, name: value}
                if kind == "json":
                    payload = json.dumps(body, ensure_ascii=False).replace(
                        '"__DEEP__"', "[" * 1_000 + "1" + "]" * 1_000)
                    out.append((f"json {name}={label}", {
                        "data": payload.encode("utf-8", "surrogatepass"),
                        "content_type": "application/json", "query_string": query}))
                else:
                    out.append((f"{kind} {name}={label}", {
                        "data": {k: str(v) for k, v in body.items()},
                        "content_type": ("multipart/form-data" if kind == "multipart"
                                         else "application/x-www-form-urlencoded"),
                        "query_string": query}))
        if kind == "json":
            out.append(("json body nested 1000 deep", {
                "data": "[" * 1_000 + "]" * 1_000, "content_type": "application/json"}))
            out.append(("json body object nested 1000 deep", {
                "data": '{"a":' * 1_000 + "1" + "}" * 1_000, "content_type": "application/json"}))
    return out


def _problems(response: Any, url: str, sent: str) -> list[str]:
    try:
        body = response.get_data()
    except Exception as exc:  # noqa: BLE001 - a stream that breaks off is what we look for
        return [f"stream broke off after {response.status_code}: {type(exc).__name__}"]
    finally:
        response.close()
    found = []
    if response.status_code >= 500:
        found.append(f"{response.status_code}: {body[:200]!r}")
    if response.status_code >= 400 and url.startswith("/api/"):
        try:
            answer = json.loads(body)
            if answer.get("status") in INTAKE_QUESTIONS:  # the intake's own 409, not an error
                return found
            error = answer["error"]
            ok = isinstance(error["code"], str) and isinstance(error["message"], str)
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            found.append(f"{response.status_code} not in the JSON error shape: {body[:200]!r}")
    # Error messages (the JSON API's and Open311's) repeat a bounded piece of what was sent; an
    # HTML form shown again holds what the person typed, which is no message.
    decoded = body.decode("utf-8", "replace")
    if (response.status_code >= 400 and url.startswith(("/api/", "/open311/"))
            and len(sent) > ECHO_LIMIT and sent[:ECHO_LIMIT] in decoded):
        found.append(f"{response.status_code} echoes the bad input at length")
    return found


@pytest.fixture
def open311_key(app: Flask, world: World) -> str:
    """An Open311 client's key, made in the test's transaction."""
    from gridmap.access import Principal, Role
    from gridmap.accounts.services import tokens

    with app.app_context():
        made = tokens.issue_client_key(app.extensions["gridmap.sessions"],
                                       Principal(account_id=world.accounts["A"], role=Role.ADMIN),
                                       "fuzz", "")
    return str(made["api_key"])


@pytest.mark.parametrize("route", sorted(FIELDS))
def test_bad_input(route: str, app: Flask, api: FlaskClient, world: World, tx: Connection,
                   open311_key: str) -> None:
    world.values["open311_key"] = open311_key
    method, endpoint = route.split(" ", 1)
    url = _url(app, endpoint, world, "A")
    attempts = [(label, {}, target) for label, target in _path_variants(app, endpoint, world)]
    attempts += [(label, kwargs, url) for label, kwargs in _requests(route, url, world)]
    # The base request once first: what it does itself (an Open311 client's first request makes
    # the client's person) is no change made by bad input.
    spec = FIELDS[route]
    if spec.kinds:
        body = ({"json": spec.base(world)} if "json" in spec.kinds
                else {"data": {k: str(v) for k, v in spec.base(world).items()}})
        base = api.open(url, method=method, headers=world.headers[_users(route)[-1]],
                        query_string=spec.base_query(world), **body)
        assert base.status_code < 500, base.get_data()[:300]
    # Good values sent as part of the corpus go last, after the rows are counted again.
    attempts.sort(key=lambda a: a[0].split(" ", 1)[-1] in spec.valid)
    before, after = _counts(tx), None
    failures: list[str] = []
    for label, kwargs, target in attempts:
        if after is None and label.split(" ", 1)[-1] in spec.valid:
            after = _counts(tx)
        for who in _users(route):
            try:
                response = api.open(target, method=method, headers=world.headers[who], **kwargs)
            except Exception as exc:  # noqa: BLE001 - a stream broken at its first chunk
                failures.append(f"{who} {method} {target[:80]} {label}: raised "
                                f"{type(exc).__name__}")
                continue
            sent = label.rsplit("=", 1)[-1]
            for problem in _problems(response, target.split("?")[0],
                                     BAD.get(sent, "") if isinstance(BAD.get(sent), str) else ""):
                failures.append(f"{who} {method} {target[:80]} {label}: {problem}")
    after = after or _counts(tx)
    changed = {t: (before[t], after[t]) for t in TABLES if before[t] != after[t]}
    assert not changed, f"bad input changed rows: {changed}"
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])



def test_routes_before_a_match_answer_in_the_json_shape(api: FlaskClient) -> None:
    for method, url, status in (("GET", "/api/no-such-thing", 404),
                                ("GET", "/api/cases/1/reporter-phone", 405),
                                ("GET", "/api/cases/" + "9" * 30, 404)):
        response = api.open(url, method=method)
        assert response.status_code == status, (url, response.status_code)
        assert set(response.get_json()["error"]) == {"code", "message"}


def test_department_empty_list_is_refused_not_kept_in_grid(api: FlaskClient, world: World,
                                                           tx: Connection) -> None:
    state = tx.execute(text('SELECT state, version FROM "case" WHERE id = :i'),
                       {"i": world.cases["A"]}).one()
    response = api.post(f"/api/cases/{world.cases['A']}/actions", headers=world.headers[WORKER],
                        json={"action": "reassign", "department": [], "version": state.version})
    assert response.status_code == 400, response.get_json()
    assert "department" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("member", "value", "names"), [
    ("address", {"a": 1}, "address"),           # once stored as the text "{'a': 1}"
    ("reporter_name", ["张三"], "reporter_name"),
    ("description", "\u200b\u200e\u200f \u202a", "description"),  # only invisible marks
    ("reporter_phone", "+86 138-0000-0000-000", "phone"),  # the form's pattern, 21 characters
    ("address", "长" * 201, "address"),
])
def test_intake_refuses_what_would_have_been_stored(member: str, value: Any, names: str,
                                                    api: FlaskClient, world: World,
                                                    tx: Connection) -> None:
    before = _counts(tx)
    body = {**_duplicate_of_a(world), "confirm_new": True, member: value}
    response = api.post("/api/cases", headers=world.headers[WORKER], json=body)
    assert response.status_code == 400, response.get_json()
    assert names in response.get_json()["error"]["message"]
    assert _counts(tx) == before


def test_a_json_body_past_its_size_is_413_before_it_is_parsed(api: FlaskClient,
                                                              world: World) -> None:
    from test_access_matrix import PLANNER

    big = '{"candidates": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = api.post("/api/coverage/siting", headers=world.headers[PLANNER], data=big,
                        content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
