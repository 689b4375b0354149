"""Every endpoint × every role × a target inside and outside the person's scope, and the public.

The endpoints come from the app's URL map: an endpoint without an entry in ``SPECS`` fails
:func:`test_every_endpoint_has_an_access_rule`, so nobody can add a route without deciding who
may use it. For each endpoint, :func:`test_access` sends the request as each principal of one
small world and checks

- the status against the rule (200/201/302/400/401/403/404/409 as the entry says), and
- that the body holds nothing of a case the principal may not read: the case's unique
  description, its reporter's name and phone, its photo paths; and that no body but the phone
  reveal's holds any reporter's full phone number.

The world: two cases in two grids of different sub-districts of the test district (A and B),
both dispatched to one department that is enrolled in both grids by two different people, each
with a photo; and one account per role, scoped to A's territory, plus a grid worker of B and a
district centre of a district with no cases (an empty scope).
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Connection, text

from gridmap.accounts.credentials import digest

PUBLIC, WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, DEPARTMENT = (
    "public", "grid_worker", "community_staff", "subdistrict_staff", "district_centre",
    "department_staff")
PLANNER, DATA_OFFICER, ADMIN, OTHER_WORKER, OTHER_DISTRICT = (
    "planner", "data_officer", "admin", "other_grid_worker", "other_district_centre")
PRINCIPALS = (PUBLIC, WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, DEPARTMENT, PLANNER,
              DATA_OFFICER, ADMIN, OTHER_WORKER, OTHER_DISTRICT)
CASE_READERS = {WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, DEPARTMENT, ADMIN, OTHER_WORKER,
                OTHER_DISTRICT}
SUPERVISORS = {COMMUNITY, SUBDISTRICT, DISTRICT, OTHER_DISTRICT}
STATISTICS = SUPERVISORS | {PLANNER, ADMIN}
COVERAGE_READERS = SUPERVISORS | {PLANNER, DATA_OFFICER, ADMIN}
VISIBLE: dict[str, set[str]] = {
    PUBLIC: set(), WORKER: {"A", "care:A", "volunteer:A"},
    COMMUNITY: {"A", "care:A", "volunteer:A", "dispute:A"},
    SUBDISTRICT: {"A", "care:A", "volunteer:A", "dispute:A"},
    DISTRICT: {"A", "B", "care:A", "care:B", "volunteer:A", "dispute:A"},
    DEPARTMENT: {"A"}, PLANNER: set(), DATA_OFFICER: set(), ADMIN: {"A", "B"},
    OTHER_WORKER: {"B", "care:B"}, OTHER_DISTRICT: set(),
}
"""Which of the world's people each principal may read (written out, not computed): the cases
("A", "B": reporters), the care register's residents of the two grids ("care:A", "care:B"), a
volunteer of grid A's community ("volunteer:A": the grid's worker and the staff over it), and
the parties of a dispute at that community's mediation point ("dispute:A": the point's staff
and those above it). Department staff, planners, data officers and administrators see none of
the register, the volunteers or the parties."""
HANDLERS: dict[str, set[str]] = {
    "A": {WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, DEPARTMENT}, "B": {OTHER_WORKER, DISTRICT},
}
"""Who handles each case, and so may reveal its reporter's phone."""
EMPTY_DISTRICT = "210199"  # a well-formed district code with nothing loaded


@dataclass
class World:
    """The two cases, their markers and the principals' request headers."""

    cases: dict[str, int] = field(default_factory=dict)
    markers: dict[str, list[str]] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    photos: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    grids: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


Expect = Callable[[str, str], set[int]]
"""(principal, target "A"/"B") -> the acceptable statuses."""


def anyone(*ok: int) -> Expect:
    """Public: everyone, signed in or not."""
    return lambda who, target: set(ok)


def signed_in(*ok: int, page: bool = False) -> Expect:
    """Any account; the public is sent to sign in (pages) or refused (API)."""
    return lambda who, target: {302 if page else 401} if who == PUBLIC else set(ok)


def roles(allowed: set[str], *ok: int, page: bool = False) -> Expect:
    """Accounts of the allowed roles; other accounts 403; the public 401 or 302."""
    def expect(who: str, target: str) -> set[int]:
        if who == PUBLIC:
            return {302 if page else 401}
        return set(ok) if who in allowed else {403}
    return expect


def case_object(*ok: int, allowed: set[str] = CASE_READERS, page: bool = False,
                hidden: int = 404) -> Expect:
    """One case: ``ok`` when the principal may read it; 404 (not 403) when it exists outside
    their scope, so a case's existence is not confirmed; 403 for roles that read no case."""
    def expect(who: str, target: str) -> set[int]:
        if who == PUBLIC:
            return {302 if page else 401}
        if who not in allowed:
            return {403, 404}
        return set(ok) if target in VISIBLE[who] else {hidden}
    return expect


def reveal(who: str, target: str) -> set[int]:
    """The reporter's phone: only the case's handlers; others cannot learn the case exists."""
    if who == PUBLIC:
        return {401}
    if who in HANDLERS[target]:
        return {200}
    if who not in CASE_READERS:
        return {403}  # a role that works no case
    return {404} if target not in VISIBLE[who] else {403}


@dataclass(frozen=True)
class Spec:
    """How to call one endpoint and what each principal must get."""

    method: str
    expect: Expect
    body: Callable[[World, str], dict[str, Any]] | None = None
    query: Callable[[World, str], dict[str, Any]] | None = None
    reveals_phone: bool = False


def _intake(world: World, target: str) -> dict[str, Any]:
    grid = world.grids[target]
    return {"json": {"category": "heating", "description": f"矩阵 {uuid.uuid4().hex}",
                     "lon": grid["lon"], "lat": grid["lat"], "grid_code": grid["code"],
                     "confirm_new": True}}


def _bad_action(world: World, target: str) -> dict[str, Any]:
    # An unknown action: a reader of the case gets 400, anyone else must not learn more.
    return {"json": {"action": "no_such_action", "version": 2}}  # filed, then dispatched


def _planning(world: World, target: str) -> dict[str, Any]:
    return {"json": {}}


def _coverage(world: World, target: str) -> dict[str, Any]:
    lon, lat = world.grids[target]["lon"], world.grids[target]["lat"]
    return {"type": "elder_care_station", "circle": "15min", "level": "community",
            "bbox": f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"}


def _scenario_ids(world: World, target: str) -> dict[str, Any]:
    return {"ids": f"{2**40},{2**40 + 1}"}


def _grid_stats(world: World, target: str) -> dict[str, Any]:
    return {"level": "grid", "code": world.grids[target]["code"]}


def _grid_community(world: World, target: str) -> dict[str, Any]:
    return {"area": world.grids[target]["code"][:12], "month": "2020-02"}


def stats(who: str, target: str) -> set[int]:
    """A grid's statistics: for statistics roles whose area holds the grid (both grids lie in
    the planner's and the centre's district; community and sub-district staff hold only A)."""
    if who == PUBLIC:
        return {401}
    if who not in STATISTICS:
        return {403}
    inside = {COMMUNITY: {"A"}, SUBDISTRICT: {"A"}, DISTRICT: {"A", "B"}, PLANNER: {"A", "B"},
              ADMIN: {"A", "B"}, OTHER_DISTRICT: set()}
    return {200} if target in inside[who] else {403}


def stats_job(who: str, target: str) -> set[int]:
    """Starting a job over a grid's statistics: as :func:`stats`, started (202) or the same
    job already under way (200) where they may read them."""
    return {202, 200} if stats(who, target) == {200} else stats(who, target)


def _grid_community_json(world: World, target: str) -> dict[str, Any]:
    return {"json": _grid_community(world, target)}


CARE_STAFF = {WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, OTHER_DISTRICT}
"""Roles that work the care register (department staff, planners, data officers and
administrators never see it)."""
CARE_VISIBLE: dict[str, set[str]] = {
    WORKER: {"A"}, OTHER_WORKER: {"B"}, COMMUNITY: {"A"}, SUBDISTRICT: {"A"},
    DISTRICT: {"A", "B"}, OTHER_DISTRICT: set(),
}
"""Whose care register of grid A and B each care role may see (written out)."""


def care_grid(*ok: int, workers_only: bool = False) -> Expect:
    """A grid's care register: ``ok`` for care staff whose scope holds the grid (with
    ``workers_only``, supervisors over it get 403: only the grid's worker writes), 404 for care
    staff outside it, 403 for every other role."""
    def expect(who: str, target: str) -> set[int]:
        if who == PUBLIC:
            return {401}
        if who not in CARE_STAFF:
            return {403}
        if target not in CARE_VISIBLE[who]:
            return {404}
        return {403} if workers_only and who not in (WORKER, OTHER_WORKER) else set(ok)
    return expect


MEDIATION = SUPERVISORS | {WORKER, OTHER_WORKER, DEPARTMENT}
"""Roles that read disputes (planners, data officers and administrators see counts only)."""
POINT_STAFF: dict[str, set[str]] = {COMMUNITY: {"A"}, SUBDISTRICT: {"A"}, DISTRICT: {"A", "B"}}
"""Whose scope holds the mediation point of grid A's and B's community (written out)."""


def point_staff(*ok: int) -> Expect:
    """A write at a mediation point: ``ok`` for staff whose scope holds the point's area, 403
    for everyone else signed in (points are public places: refusing confirms nothing)."""
    def expect(who: str, target: str) -> set[int]:
        if who == PUBLIC:
            return {401}
        return set(ok) if target in POINT_STAFF.get(who, set()) else {403}
    return expect


def _form(world: World, target: str) -> dict[str, Any]:
    return {"data": {}}


def _open311_post(world: World, target: str) -> dict[str, Any]:
    return {"data": {"service_code": "heating", "description": "x", "lat": 0, "long": 0}}


ADMIN_FORM = {200, 302, 400, 404}
"""An administrator's POST without the form's own token (a script's bearer request): refused as
a bad form, or the thing named does not exist; never a change (the world stays as it was)."""

SPECS: dict[str, Spec] = {
    # The public's map, territory and reference data.
    "GET pages.map_page": Spec("GET", anyone(200)),
    "GET api.health": Spec("GET", anyone(200)),
    "GET api.health_live": Spec("GET", anyone(200)),
    "GET api.health_ready": Spec("GET", anyone(200)),
    "GET metrics.metrics_page": Spec("GET", roles({ADMIN}, 200, page=True)),
    "GET api.meta": Spec("GET", anyone(200)),
    "GET api.layer": Spec("GET", anyone(200)),
    "GET api.locate": Spec("GET", anyone(200), query=lambda w, t: {"lon": w.grids[t]["lon"],
                                                                   "lat": w.grids[t]["lat"]}),
    "GET api.search": Spec("GET", anyone(200), query=lambda w, t: {"q": "沈河"}),
    # Vector tiles: public tiles for everyone (scoped properties are tested in tests/web/tiles).
    "GET tiles.tile": Spec("GET", anyone(200)),
    "GET tiles.tilejson": Spec("GET", anyone(200)),
    "GET tiles.ogc_tile": Spec("GET", anyone(200)),
    "GET tiles.ogc_tilesets": Spec("GET", anyone(200)),
    "GET tiles.ogc_tileset": Spec("GET", anyone(200)),
    "GET static": Spec("GET", anyone(200)),
    "GET assets.vendor_file": Spec("GET", anyone(200)),
    "GET apidocs.openapi_json": Spec("GET", anyone(200)),
    "GET apidocs.docs_page": Spec("GET", anyone(200)),
    # OGC API Features: the public view for everyone; a case's full fields only for those who
    # may read it (the body check below holds every other case's description out).
    "GET ogc.landing": Spec("GET", anyone(200)),
    "GET ogc.service_description": Spec("GET", anyone(200)),
    "GET ogc.conformance": Spec("GET", anyone(200)),
    "GET ogc.collections": Spec("GET", anyone(200)),
    "GET ogc.collection": Spec("GET", anyone(200)),
    "GET ogc.queryables": Spec("GET", anyone(200)),
    "GET ogc.sortables": Spec("GET", anyone(200)),
    "GET ogc.items": Spec("GET", anyone(200), query=lambda w, t: {"limit": 10000}),
    "GET ogc.item": Spec("GET", anyone(200)),
    "GET open311.services": Spec("GET", anyone(200)),
    "GET open311.service_definition": Spec("GET", anyone(200, 400, 404)),
    "GET open311.list_requests": Spec("GET", anyone(200)),
    "GET open311.get_request": Spec("GET", anyone(200)),
    "POST open311.create_request": Spec("POST", anyone(403), body=_open311_post),  # no API key
    # Signing in and one's own account.
    "GET accounts.sign_in": Spec("GET", anyone(200)),
    "POST accounts.sign_in": Spec("POST", signed_in(400), body=_form),  # the form's own token
    "POST accounts.sign_out": Spec("POST", signed_in(302), body=_form),
    "GET accounts.account": Spec("GET", signed_in(200, page=True)),
    "GET accounts.password": Spec("GET", signed_in(200, page=True)),
    "POST accounts.password": Spec("POST", signed_in(200), body=_form),
    "POST accounts.create_token": Spec("POST", signed_in(201, 302), body=_form),
    "POST accounts.revoke_token": Spec("POST", signed_in(404), body=_form),
    # Without the form's token a bad form; an empty address would clear an unset e-mail.
    "POST accounts.change_email": Spec("POST", signed_in(303, 400), body=_form),
    # Cases.
    "GET cases.categories": Spec("GET", anyone(200)),  # reference data, as Open311's services
    "GET cases.departments": Spec("GET", anyone(200)),  # reference data, named by categories
    "POST cases.create": Spec("POST", lambda who, t: (
        {401} if who == PUBLIC else
        {201, 409} if (who, t) in {(WORKER, "A"), (COMMUNITY, "A"), (SUBDISTRICT, "A"),
                                   (DISTRICT, "A"), (DISTRICT, "B"), (OTHER_WORKER, "B")}
        else {403}), body=_intake),
    "GET cases.board": Spec("GET", roles(CASE_READERS, 200)),
    "GET cases.board_csv": Spec("GET", roles(CASE_READERS, 200)),
    "GET cases.board_geojson": Spec("GET", roles(CASE_READERS, 200)),
    "GET case_map.points": Spec("GET", roles(CASE_READERS, 200)),
    "GET case_dashboard.stats": Spec("GET", stats, query=_grid_stats),
    "GET cases.detail": Spec("GET", case_object(200)),
    "POST cases.act": Spec("POST", case_object(400), body=_bad_action),
    "POST cases.reporter_phone": Spec("POST", reveal, body=_form, reveals_phone=True),
    "GET cases.media": Spec("GET", case_object(200, page=True)),
    "GET case_pages.board": Spec("GET", roles(CASE_READERS, 200, page=True)),
    "GET case_pages.case_detail": Spec("GET", roles(CASE_READERS, 200, page=True)),
    "GET case_pages.new_case": Spec("GET", roles(SUPERVISORS | {WORKER, OTHER_WORKER}, 200,
                                                 page=True)),
    "GET case_map.map_page": Spec("GET", roles(CASE_READERS, 200, page=True)),
    "GET case_dashboard.dashboard": Spec("GET", roles(STATISTICS, 200, page=True)),
    # Monthly scorecards: statistics roles, for the community of the grid when it is theirs.
    "GET scorecards.scorecard": Spec("GET", stats, query=_grid_community),
    "GET scorecards.scorecard_csv": Spec("GET", stats, query=_grid_community),
    "GET scorecards.workbook": Spec("GET", stats, query=_grid_community),
    # The workbook as a job: started where they may read; a job that is not their workbook is a
    # 404 (the owner downloads it, others get 404: tests/web/scorecards/test_scorecards_api.py).
    "POST scorecards.start_workbook": Spec("POST", stats_job, body=_grid_community_json),
    "GET scorecards.workbook_file": Spec("GET", roles(STATISTICS, 404)),
    "GET scorecards.page": Spec("GET", roles(STATISTICS, 200, page=True)),
    # The care register (未呼先应): residents only for care staff whose scope holds the grid; a
    # register entry nobody has made is a 404 for care staff (real entries, the privacy matrix
    # and the writes: tests/web/care).
    "GET care.reference": Spec("GET", anyone(200)),
    "GET care_pages.visits_page": Spec("GET", roles({WORKER, OTHER_WORKER}, 200, page=True)),
    # The overview page: supervisors see it, grid workers are sent on to their visits page.
    "GET care_pages.overview_page": Spec("GET", lambda who, t: (
        {302} if who in (PUBLIC, WORKER, OTHER_WORKER) else
        {200} if who in CARE_STAFF else {403})),
    # A grid's month page: as its register (the public is sent to sign in).
    "GET care_pages.month_page": Spec("GET", lambda who, t: (
        {302} if who == PUBLIC else care_grid(200)(who, t))),
    "GET care.counts": Spec("GET", anyone(200)),
    "POST care.create_entry": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "GET care.grid_entries": Spec("GET", care_grid(200)),
    "GET care.month_checklist": Spec("GET", care_grid(200)),
    "POST care.submit_report": Spec("POST", care_grid(400, workers_only=True), body=_planning),
    "GET care.entry": Spec("GET", roles(CARE_STAFF, 404)),
    "POST care.log_visit": Spec("POST", roles(CARE_STAFF, 404), body=_planning),
    "POST care.close_entry": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST care.explain": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "GET care.overview": Spec("GET", roles(SUPERVISORS, 200)),
    "GET care.overview_geojson": Spec("GET", roles(SUPERVISORS, 200)),
    # Party layers and volunteers (issue 13 item 2): organisations and counts for everyone;
    # households, volunteers' phones and tasks only for staff whose scope holds the grid or
    # community (real people, the privacy matrix and the writes: tests/web/volunteers).
    "GET party.counts": Spec("GET", anyone(200)),
    "GET party.grids_geojson": Spec("GET", anyone(200)),
    "GET party.branches_geojson": Spec("GET", anyone(200)),
    "GET party.groups_geojson": Spec("GET", anyone(200)),
    "GET party.households_geojson": Spec("GET", roles(CARE_STAFF, 200)),
    "GET volunteer_pages.party_page": Spec("GET", anyone(200)),
    "GET volunteer_pages.volunteers_page": Spec("GET", anyone(200)),
    "GET volunteers.reference": Spec("GET", anyone(200)),
    "GET volunteers.community": Spec("GET", anyone(200)),
    "GET volunteers.task_list": Spec("GET", care_grid(200)),
    "POST volunteers.create_team": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST volunteers.add_volunteer": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST volunteers.publish_task": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST volunteers.accept_task": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST volunteers.complete_task": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST volunteers.cancel_task": Spec("POST", roles(CARE_STAFF, 400), body=_planning),
    "POST volunteers.import_file": Spec("POST", roles(SUPERVISORS, 400), body=_form),
    # Mediation (评理说事): disputes for territorial staff, grid workers and department staff
    # (parties masked unless the point's staff or the dispute's mediator: tests/web/mediation);
    # only staff whose scope holds the point accept a dispute there; a dispute nobody has made
    # is a 404.
    "GET mediation.reference": Spec("GET", anyone(200)),
    "GET mediation.counts": Spec("GET", anyone(200)),
    "GET mediation.point_list": Spec("GET", roles(MEDIATION, 200)),
    "GET mediation.point_disputes": Spec("GET", roles(MEDIATION, 200)),
    "POST mediation.create_dispute": Spec("POST", point_staff(400), body=_planning),
    "GET mediation.dispute": Spec("GET", roles(MEDIATION, 404)),
    "POST mediation.take_step": Spec("POST", roles(MEDIATION, 400), body=_planning),
    "GET mediation_pages.page": Spec("GET", roles(MEDIATION, 200, page=True)),
    # Coverage and planning.
    "GET coverage.page": Spec("GET", roles(COVERAGE_READERS, 200, page=True)),
    "GET coverage.audit_page": Spec("GET", roles(COVERAGE_READERS, 200, page=True)),
    "GET coverage.runs": Spec("GET", roles(COVERAGE_READERS, 200)),
    "GET coverage.areas": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.areas_csv": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.areas_geojson": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.audit_json": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.audit_csv": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.audit_geojson": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.buildings_csv": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.buildings_geojson": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.catchments": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "GET coverage.distances": Spec("GET", roles(COVERAGE_READERS, 200, 404), query=_coverage),
    "POST coverage.siting_sites": Spec("POST", roles({PLANNER}, 400), body=_planning),
    "POST coverage.what_if": Spec("POST", roles({PLANNER}, 400), body=_planning),
    "POST coverage.start_compute": Spec("POST", roles({PLANNER, DATA_OFFICER, ADMIN}, 400),
                                        body=_planning),
    "GET coverage.compute_jobs_list": Spec("GET", roles(COVERAGE_READERS, 200)),
    # Planners' coverage reports (issue 13): planners only; a report nobody made is a 404 (real
    # ones, and another district's planner, in tests/web/reports/test_reports_api.py).
    "GET reports.page": Spec("GET", roles({PLANNER}, 200, page=True)),
    "POST reports.start_report": Spec("POST", roles({PLANNER}, 400), body=_planning),
    "GET reports.reports_list": Spec("GET", roles({PLANNER}, 200)),
    "GET reports.report_file": Spec("GET", roles({PLANNER}, 404)),
    # Saved what-if scenarios: planners only; a scenario nobody has saved is a 404 (real ones,
    # and another district's planner, in tests/web/coverage/test_coverage_scenarios.py).
    "POST coverage.save_scenario": Spec("POST", roles({PLANNER}, 400), body=_planning),
    "GET coverage.scenarios_list": Spec("GET", roles({PLANNER}, 200)),
    "GET coverage.scenario": Spec("GET", roles({PLANNER}, 404)),
    "DELETE coverage.delete_scenario": Spec("DELETE", roles({PLANNER}, 404)),
    "GET coverage.scenario_csv": Spec("GET", roles({PLANNER}, 404)),
    "GET coverage.scenario_geojson": Spec("GET", roles({PLANNER}, 404)),
    "GET coverage.compare_scenarios": Spec("GET", roles({PLANNER}, 404), query=_scenario_ids),
    "GET coverage.scenarios_page": Spec("GET", roles({PLANNER}, 200, page=True)),
    "GET coverage.scenario_page": Spec("GET", roles({PLANNER}, 404, page=True)),
    "GET coverage.compare_page": Spec("GET", roles({PLANNER}, 404, page=True),
                                      query=_scenario_ids),
    # A city's data in and out (tests/web/exchange holds real imports and exports).
    "GET exchange.data_page": Spec("GET", roles({DATA_OFFICER, ADMIN}, 200, page=True)),
    "GET exchange.edit_page": Spec("GET", roles({DATA_OFFICER, ADMIN}, 200, page=True)),
    "POST exchange.start_import": Spec("POST", roles({DATA_OFFICER, ADMIN}, 400), body=_form),
    "GET exchange.import_report": Spec("GET", roles({DATA_OFFICER, ADMIN}, 404)),
    "POST exchange.add_facility": Spec("POST", roles({DATA_OFFICER, ADMIN}, 400), body=_planning),
    "POST exchange.change_facility": Spec("POST", roles({DATA_OFFICER, ADMIN}, 400),
                                          body=_planning),
    "GET exchange.facility_changes": Spec("GET", roles({DATA_OFFICER, ADMIN}, 200)),
    "GET exchange.grid_changes": Spec("GET", roles({DATA_OFFICER, ADMIN}, 200)),
    "POST exchange.reshape_grids": Spec("POST", roles({DATA_OFFICER, ADMIN}, 400), body=_planning),
    "GET exchange.grid_versions": Spec("GET", roles({DATA_OFFICER, ADMIN}, 404)),
    "POST exchange.split_grid": Spec("POST", roles({DATA_OFFICER, ADMIN}, 400), body=_planning),
    "POST exchange.merge_grids": Spec("POST", roles({DATA_OFFICER, ADMIN}, 400), body=_planning),
    # The whole city's facilities: the administrator's; a data officer of A's district only
    # exports inside it (403 without an area).
    "GET exchange.export": Spec("GET", lambda who, t: (
        {401} if who == PUBLIC else {200} if who == ADMIN else {403})),
    # Background jobs (a job no one may watch is a 404 for all: tests/web/jobs holds real ones).
    "GET jobs.listing": Spec("GET", signed_in(200)),
    "GET jobs.job": Spec("GET", signed_in(404)),
    "POST jobs.cancel": Spec("POST", signed_in(404), body=_form),
    # The inbox: every account reads its own (tests/web/supervision shows it is only its own).
    "GET inbox_pages.page": Spec("GET", signed_in(200, page=True)),
    "GET inbox.listing": Spec("GET", signed_in(200)),
    "GET inbox.unread": Spec("GET", signed_in(200)),
    "POST inbox.mark_read": Spec("POST", signed_in(404), body=_form),
    "POST inbox.mark_all_read": Spec("POST", signed_in(200), body=_form),
    # The escalation rules: administrators only ("code" names no rule: 404, or a bad form).
    "GET inbox_pages.rules_page": Spec("GET", roles({ADMIN}, 200, page=True)),
    "POST inbox_pages.change_rule": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    # Administration: accounts and the audit log for administrators; grid workers and
    # enrolments also for data officers (in their district, which holds both grids here).
    "GET admin.index": Spec("GET", roles({ADMIN, DATA_OFFICER}, 200, page=True)),
    "GET admin.accounts": Spec("GET", roles({ADMIN}, 200, page=True)),
    "GET admin.new_account": Spec("GET", roles({ADMIN}, 200, page=True)),
    "POST admin.create_account": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "GET admin.account": Spec("GET", roles({ADMIN}, 200, page=True)),
    "POST admin.change_scope": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "POST admin.deactivate": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "POST admin.reactivate": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "POST admin.change_email": Spec("POST", roles({ADMIN}, *ADMIN_FORM, 303), body=_form),
    "POST admin.reset_password": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "POST admin.revoke_token": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "GET admin.audit_log": Spec("GET", roles({ADMIN}, 200, page=True)),
    "GET admin.audit_csv": Spec("GET", roles({ADMIN}, 200, page=True)),
    "GET admin.clients": Spec("GET", roles({ADMIN}, 200, page=True)),
    "POST admin.create_client": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "POST admin.revoke_client": Spec("POST", roles({ADMIN}, *ADMIN_FORM), body=_form),
    "GET assignments.grids": Spec("GET", roles({ADMIN, DATA_OFFICER}, 200, page=True)),
    "GET assignments.grid": Spec("GET", roles({ADMIN, DATA_OFFICER}, 200, page=True)),
    "POST assignments.set_worker": Spec("POST", roles({ADMIN, DATA_OFFICER}, *ADMIN_FORM),
                                        body=_form),
    "POST assignments.remove_worker": Spec("POST", roles({ADMIN, DATA_OFFICER}, *ADMIN_FORM),
                                           body=_form),
    "POST assignments.set_enrolment": Spec("POST", roles({ADMIN, DATA_OFFICER}, *ADMIN_FORM),
                                           body=_form),
    "POST assignments.remove_enrolment": Spec(
        "POST", roles({ADMIN, DATA_OFFICER}, *ADMIN_FORM), body=_form),
}


# --- the world -----------------------------------------------------------------------------------

def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def _pick(tx: Connection) -> dict[str, Any]:
    """Two grids in different sub-districts with one department enrolled in both by two people."""
    row = tx.execute(text("""
        SELECT a.grid_code AS a, b.grid_code AS b, a.department_code AS dep,
               a.person_id AS staff_a, b.person_id AS staff_b
        FROM grid_enrollment a JOIN grid_enrollment b
          ON a.department_code = b.department_code AND a.person_id <> b.person_id
         AND left(a.grid_code, 9) <> left(b.grid_code, 9)
        WHERE a.department_code = 'housing'
        ORDER BY a.grid_code, b.grid_code LIMIT 1""")).mappings().one()
    return dict(row)


def _grid(tx: Connection, code: str) -> dict[str, Any]:
    row = tx.execute(text("""
        SELECT code, ST_X(p) AS lon, ST_Y(p) AS lat,
               (SELECT person_id FROM grid_member WHERE grid_code = code AND role = 'grid_worker')
                 AS worker
        FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grid WHERE code = :c) g"""),
        {"c": code}).mappings().one()
    return dict(row)


def _file(api: FlaskClient, headers: dict[str, str], grid: dict[str, Any], tag: str,
          phone: str) -> int:
    marker = f"MATRIX-{tag}-{uuid.uuid4().hex}"
    response = api.post("/api/cases", headers=headers, content_type="multipart/form-data", data={
        "category": "heating", "description": marker, "lon": str(grid["lon"]),
        "lat": str(grid["lat"]), "grid_code": grid["code"], "confirm_new": "1",
        "reporter_name": f"报告人{tag}{marker[-6:]}", "reporter_phone": phone,
        "photos": [(io.BytesIO(_png()), "p.png")]})
    assert response.status_code == 201, response.data[:400]
    return int(response.get_json()["case_id"])


def _volunteer_and_dispute(api: FlaskClient, tx: Connection, w: World) -> None:
    """A volunteer of grid A's community and a dispute at its mediation point, with markers."""
    community = w.grids["A"]["code"][:12]
    team = api.post("/api/volunteers/teams", headers=w.headers[COMMUNITY], json={
        "community_code": community, "name": f"矩阵队{uuid.uuid4().hex[:6]}",
        "skills": ["repair"]})
    assert team.status_code == 201, team.data[:400]
    volunteer = f"志愿者{uuid.uuid4().hex[:8]}"
    made = api.post(f"/api/volunteers/teams/{team.get_json()['id']}/volunteers",
                    headers=w.headers[COMMUNITY],
                    json={"name": volunteer, "phone": "13522446688", "skills": ["repair"]})
    assert made.status_code == 201, made.data[:400]
    w.markers["volunteer:A"] = [volunteer]
    w.phones["volunteer:A"] = "13522446688"
    point = tx.execute(text("SELECT facility_id FROM mediation_point WHERE area_code = :c"),
                       {"c": community}).scalar_one()
    tag = uuid.uuid4().hex[:8]
    parties = [f"申请人{tag}", f"被申请人{tag}", f"矩阵里{tag}号楼301"]
    dispute = api.post(f"/api/mediation/points/{point}/disputes", headers=w.headers[COMMUNITY],
                       json={"kind": "neighbour", "summary": f"楼上漏水{tag}",
                             "party_role": ["applicant", "respondent"],
                             "party_name": parties[:2], "party_phone": ["13744556677", ""],
                             "party_address": [parties[2], ""]})
    assert dispute.status_code == 201, dispute.data[:400]
    w.markers["dispute:A"] = [*parties, f"楼上漏水{tag}"]
    w.phones["dispute:A"] = "13744556677"


@pytest.fixture
def world(api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]],
          media: Path) -> World:
    """The two cases and every principal's headers (all inside the test's transaction)."""
    picked = _pick(tx)
    w = World()
    w.grids = {"A": _grid(tx, picked["a"]), "B": _grid(tx, picked["b"])}
    a = w.grids["A"]["code"]
    w.headers = {
        PUBLIC: {},
        WORKER: login("grid_worker", person_id=w.grids["A"]["worker"]),
        OTHER_WORKER: login("grid_worker", person_id=w.grids["B"]["worker"]),
        COMMUNITY: login("community_staff", area=a[:12]),
        SUBDISTRICT: login("subdistrict_staff", area=a[:9]),
        DISTRICT: login("district_centre", area=a[:6]),
        OTHER_DISTRICT: login("district_centre", area=EMPTY_DISTRICT),
        DEPARTMENT: login("department_staff", person_id=picked["staff_a"],
                          department=picked["dep"]),
        PLANNER: login("planner", area=a[:6]),
        DATA_OFFICER: login("data_officer", area=a[:6]),
        ADMIN: login("admin"),
    }
    for tag, who, phone in (("A", WORKER, "13811112222"), ("B", OTHER_WORKER, "13933334444")):
        case_id = _file(api, w.headers[who], w.grids[tag], tag, phone)
        done = api.post(f"/api/cases/{case_id}/actions", headers=w.headers[who],
                        json={"action": "dispatch", "department": picked["dep"], "version": 1})
        assert done.status_code == 200, done.data[:400]
        w.cases[tag] = case_id
        w.phones[tag] = phone
    for tag, case_id in w.cases.items():
        description, name = tx.execute(text(
            'SELECT description, reporter_name FROM "case" WHERE id = :i'), {"i": case_id}).one()
        path = tx.execute(text("SELECT path FROM case_photo WHERE case_id = :i"),
                          {"i": case_id}).scalar_one()
        w.photos[tag] = path
        w.markers[tag] = [description, name, w.phones[tag], path]
    for tag, who, phone in (("A", WORKER, "13755556666"), ("B", OTHER_WORKER, "13977778888")):
        name = f"关爱{tag}{uuid.uuid4().hex[:10]}"
        building = tx.execute(text("SELECT code FROM building WHERE grid_code = :g ORDER BY code "
                                   "LIMIT 1"), {"g": w.grids[tag]["code"]}).scalar_one()
        made = api.post("/api/care/entries", headers=w.headers[who], json={
            "building_code": building, "name": name, "phone": phone, "unit": "3单元",
            "household": "502", "reasons": ["living_alone", "aged_80_plus"],
            "carer": f"照护人{tag}{uuid.uuid4().hex[:8]}"})
        assert made.status_code == 201, made.data[:400]
        carer = tx.execute(text("SELECT carer FROM care_entry WHERE id = :i"),
                           {"i": made.get_json()["id"]}).scalar_one()
        w.markers[f"care:{tag}"] = [name, carer]
        w.phones[f"care:{tag}"] = phone
    _volunteer_and_dispute(api, tx, w)
    w.values = {"layer": "grids", "category": "heating", "department": picked["dep"],
                "vendor": ("leaflet", "dist/leaflet.css"),
                "points": {tag: tx.execute(text(
                    "SELECT facility_id FROM mediation_point WHERE area_code = :c"),
                    {"c": w.grids[tag]["code"][:12]}).scalar_one() for tag in ("A", "B")}}
    for tag, who in (("A", WORKER), ("B", OTHER_WORKER)):
        secret = w.headers[who]["Authorization"].removeprefix("Bearer ")
        w.accounts[tag] = tx.execute(text("SELECT account_id FROM api_token WHERE digest = :d"),
                                     {"d": digest(secret)}).scalar_one()
    return w


def _url(app: Flask, endpoint: str, world: World, target: str) -> str:
    """The endpoint's URL with its arguments filled from the world, for ``target``."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    fill = {"case_id": world.cases[target], "request_id": world.cases[target], "fmt": "json",
            "path": world.photos[target], "name": world.values["layer"],
            "code": world.values["category"], "package": world.values["vendor"][0],
            "filename": "css/app.css", "token_id": 2**40, "client_id": 2**40,
            "account_id": world.accounts[target], "department": world.values["department"],
            "job_id": 2**40, "item_id": 2**40, "scenario_id": 2**40, "layer": "facilities",
            "collection_id": "cases", "point_id": world.values["points"][target],
            "dispute_id": 2**40,
            "feature_id": world.cases[target], "level": "grid", "entry_id": 2**40,
            "month": _this_month(),
            "grid": world.grids[target]["code"],
            "community": world.grids[target]["code"][:12], "team_id": 2**40, "task_id": 2**40,
            # A zoom-15 tile over 沈河区 (XYZ and OGC's matrix/row/column).
            "collection": "buildings", "z": 15, "x": 27624,
            "y": 12189, "tile_matrix": 15, "tile_row": 12189, "tile_col": 27624}
    if endpoint.startswith("tiles."):  # the OGC API Tiles pages of a collection with tiles
        fill["collection_id"] = "buildings"
    if endpoint == "exchange.export":
        fill["fmt"] = "csv"
    if endpoint.startswith("assignments."):
        fill["code"] = world.grids[target]["code"]
    if endpoint == "assets.vendor_file":
        fill["path"] = world.values["vendor"][1]
    args = {name: fill[name] for name in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def _this_month() -> str:
    from datetime import UTC, datetime

    from gridmap.care.rules import this_month

    return this_month(datetime.now(UTC)).strftime("%Y-%m")


def _routes(app: Flask) -> set[str]:
    return {f"{m} {r.endpoint}" for r in app.url_map.iter_rules()
            for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}


def test_every_endpoint_has_an_access_rule(app: Flask) -> None:
    missing = sorted(_routes(app) - set(SPECS))
    assert not missing, f"endpoints without an access rule in SPECS: {missing}"
    stale = sorted(set(SPECS) - _routes(app))
    assert not stale, f"SPECS names endpoints the app no longer has: {stale}"


def _leaks(body: str, world: World, who: str, spec: Spec, target: str, url: str) -> list[str]:
    # A redirect to sign in repeats the URL asked for (?next=…); that tells nothing new.
    body = body.replace(url, "").replace(quote(url, safe=""), "").replace(quote(url), "")
    found = [m for tag, marks in world.markers.items() if tag not in VISIBLE[who]
             for m in marks if m and m in body]
    digits = re.sub(r"[\s-]", "", body)
    for tag, phone in world.phones.items():
        revealed_here = spec.reveals_phone and tag == target and who in HANDLERS[tag]
        if tag in world.cases and not revealed_here and phone in digits:
            found.append(f"full phone of case {tag}")
        elif tag not in world.cases and tag not in VISIBLE[who] and phone in digits:
            found.append(f"phone of {tag}")
    return found


@pytest.mark.parametrize("route", sorted(SPECS))
def test_access(route: str, app: Flask, api: FlaskClient, world: World) -> None:
    spec = SPECS[route]
    endpoint = route.split(" ", 1)[1]
    failures: list[str] = []
    for target in ("A", "B"):
        url = _url(app, endpoint, world, target)
        for who in PRINCIPALS:
            kwargs: dict[str, Any] = {"headers": world.headers[who]}
            if spec.query:
                kwargs["query_string"] = spec.query(world, target)
            if spec.body:
                kwargs.update(spec.body(world, target))
            response = api.open(url, method=spec.method, **kwargs)
            body = response.get_data().decode("utf-8", errors="replace")  # photos too
            response.close()
            expected = spec.expect(who, target)
            if who == PUBLIC and spec.method in ("POST", "DELETE"):
                expected |= {403}  # refused for want of a CSRF token before anything else
            if response.status_code not in expected:
                failures.append(f"{who} {spec.method} {url}: {response.status_code}, "
                                f"expected {sorted(expected)}: {body[:160]!r}")
            leaks = _leaks(body, world, who, spec, target, url)
            if leaks:
                failures.append(f"LEAK {who} {spec.method} {url}: {leaks}")
    assert not failures, "\n".join(failures)
