"""Who may read coverage and plan, inside which area, and one planning run per planner.

Every endpoint of the coverage blueprint is listed in :data:`REQUESTS`, and the list is checked
against the app's URL map, so a new coverage endpoint without an entry fails here. Each is asked
by the public, by roles that may not read coverage, by readers of 沈河区 (the district the test
database holds) and by readers of another district, whose answers must hold nothing of 沈河区.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

DISTRICT = "210103"  # 沈河区, the district the test database holds
OTHER_DISTRICT = "210104"  # 大东区: its accounts may not read 沈河区
TYPE, CIRCLE = "elder_care_station", "15min"
Q = f"type={TYPE}&circle={CIRCLE}"
BUSY = "您已有一个规划计算在运行，请等待完成"

# endpoint -> (method, path, JSON body); reads of the run, pages and the planning POSTs.
REQUESTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "coverage.page": ("GET", "/coverage", None),
    "coverage.audit_page": ("GET", "/coverage/audit", None),
    "coverage.runs": ("GET", "/api/coverage/runs", None),
    "coverage.buildings_geojson": ("GET", f"/api/coverage/buildings.geojson?{Q}", None),
    "coverage.buildings_csv": ("GET", f"/api/coverage/buildings.csv?{Q}", None),
    "coverage.areas": ("GET", f"/api/coverage/areas?{Q}&level=community", None),
    "coverage.areas_geojson": ("GET", f"/api/coverage/areas.geojson?{Q}&level=grid", None),
    "coverage.areas_csv": ("GET", f"/api/coverage/areas.csv?{Q}&level=subdistrict", None),
    "coverage.distances": ("GET", f"/api/coverage/distances?{Q}", None),
    "coverage.catchments": ("GET", f"/api/coverage/catchments.geojson?{Q}&bbox=BBOX", None),
    "coverage.audit_json": ("GET", "/api/coverage/audit?level=grid", None),
    "coverage.audit_csv": ("GET", "/api/coverage/audit.csv?level=community", None),
    "coverage.audit_geojson": ("GET", "/api/coverage/audit.geojson?level=community", None),
    "coverage.siting_sites": ("POST", "/api/coverage/siting",
                              {"type": TYPE, "circle": CIRCLE, "area": "COMMUNITY", "k": 1}),
    "coverage.what_if": ("POST", "/api/coverage/what-if", {"type": TYPE, "circle": CIRCLE}),
    "coverage.start_compute": ("POST", "/api/coverage/jobs", {"type": TYPE, "circle": CIRCLE}),
    "coverage.compute_jobs_list": ("GET", "/api/coverage/jobs", None),
}
SCENARIOS = {"coverage.save_scenario", "coverage.scenarios_list", "coverage.scenario",
             "coverage.delete_scenario", "coverage.scenario_csv", "coverage.scenario_geojson",
             "coverage.compare_scenarios", "coverage.scenarios_page", "coverage.scenario_page",
             "coverage.compare_page"}
"""Saved what-if scenarios: planners' own, not coverage reads; who sees which is tested in
test_coverage_scenarios.py (and every role in tests/web/test_access_matrix.py)."""
PLANNING = {"coverage.siting_sites", "coverage.what_if", "coverage.start_compute"}
READS = sorted(set(REQUESTS) - PLANNING)
# Reads whose answer holds nothing of an area's coverage: the public street and facility layers
# only (drawn anywhere), the pages, the city-wide computes under way.
PUBLIC_MATERIAL = {"coverage.catchments", "coverage.page", "coverage.audit_page",
                   "coverage.compute_jobs_list"}

READER_ROLES = [("planner", {"area": DISTRICT}), ("planner", {}), ("data_officer", {"area": DISTRICT}),
                ("admin", {}), ("district_centre", {"area": DISTRICT})]
NOT_READERS = ["grid_worker", "department_staff"]


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[dict[str, Any]]:
    """A committed run; yields a community of it and a small bbox around one facility."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM facility WHERE type = :t ORDER BY id LIMIT 1"),
            {"t": TYPE}).one()
        community = conn.execute(text(
            "SELECT code FROM coverage_area WHERE run_id = :r AND level = 'community' "
            "ORDER BY elderly - elderly_covered DESC, code LIMIT 1"),
            {"r": report.run_id}).scalar_one()
        subdistrict = conn.execute(text("SELECT min(code) FROM subdistrict")).scalar_one()
    yield {"community": community, "subdistrict": subdistrict,
           "bbox": f"{lon - 0.01},{lat - 0.008},{lon + 0.01},{lat + 0.008}"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


def ask(client: FlaskClient, endpoint: str, run: dict[str, Any], **headers: str) -> Any:
    method, path, body = REQUESTS[endpoint]
    path = path.replace("BBOX", run["bbox"])
    if body is not None:
        body = {k: (run["community"] if v == "COMMUNITY" else v) for k, v in body.items()}
    return client.open(path, method=method, json=body, headers=headers)


def test_every_coverage_endpoint_is_listed(app: Any) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("coverage.")}
    assert endpoints == set(REQUESTS) | SCENARIOS


@pytest.mark.parametrize("endpoint", sorted(REQUESTS))
def test_the_public_must_sign_in(api: FlaskClient, run: dict[str, Any], endpoint: str) -> None:
    headers = {}
    if REQUESTS[endpoint][0] == "POST":  # as a page would: with the session's CSRF token
        page = api.get("/login").data.decode()
        headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = ask(api, endpoint, run, **headers)
    if endpoint.endswith("page"):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 401, response.data[:200]
        assert "请先登录" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("role", NOT_READERS)
@pytest.mark.parametrize("endpoint", sorted(REQUESTS))
def test_case_workers_may_not(client_as: Callable[..., FlaskClient], run: dict[str, Any],
                              grids: list[dict[str, Any]], role: str, endpoint: str) -> None:
    options = {"department": "housing"} if role == "department_staff" else {}
    response = ask(client_as(role, **options), endpoint, run)
    assert response.status_code == 403


@pytest.mark.parametrize("role, options", READER_ROLES + [("community_staff", {})])
@pytest.mark.parametrize("endpoint", READS)
def test_readers_read(client_as: Callable[..., FlaskClient], run: dict[str, Any], role: str,
                      options: dict[str, str], endpoint: str) -> None:
    if role == "community_staff":
        options = {"area": run["community"]}
    response = ask(client_as(role, **options), endpoint, run)
    assert response.status_code == 200, response.data[:300]
    if endpoint not in PUBLIC_MATERIAL:
        assert _buildings_in(endpoint, response) > 0


def _buildings_in(endpoint: str, response: Any) -> int:
    """How much of 沈河区 an answer holds: buildings counted (runs, histogram), else the
    occurrences of its code."""
    if endpoint == "coverage.runs":
        return sum(r["buildings"] for r in response.get_json()["runs"] if r["facility_type"] == TYPE)
    if endpoint == "coverage.distances":
        body = response.get_json()
        return sum(b["buildings"] for b in body["bins"]) + body["unreached"]["buildings"]
    return int(response.data.count(DISTRICT.encode()))


@pytest.mark.parametrize("role", ["planner", "data_officer", "district_centre"])
@pytest.mark.parametrize("endpoint", sorted(set(READS) - PUBLIC_MATERIAL))
def test_another_districts_reader_sees_nothing_of_ours(
        client_as: Callable[..., FlaskClient], run: dict[str, Any], role: str,
        endpoint: str) -> None:
    response = ask(client_as(role, area=OTHER_DISTRICT), endpoint, run)
    assert response.status_code == 200
    assert DISTRICT.encode() not in response.data and _buildings_in(endpoint, response) == 0
    if endpoint == "coverage.runs":
        ours = [r for r in response.get_json()["runs"] if r["facility_type"] == TYPE]
        assert ours and ours[0]["residents"] == 0 and ours[0]["facilities"] == 0


@pytest.mark.parametrize("path", [
    f"/api/coverage/areas?{Q}&level=community&parent={DISTRICT}",
    f"/api/coverage/areas.geojson?{Q}&level=grid&parent={DISTRICT}",
    f"/api/coverage/areas.csv?{Q}&parent={DISTRICT}",
    f"/api/coverage/buildings.geojson?{Q}&area={DISTRICT}",
    f"/api/coverage/buildings.csv?{Q}&area={DISTRICT}001",
    f"/api/coverage/distances?{Q}&area={DISTRICT}",
    f"/api/coverage/audit?area={DISTRICT}",
    f"/api/coverage/audit.csv?area={DISTRICT}001",
    f"/api/coverage/audit.geojson?area={DISTRICT}"])
def test_an_area_outside_ones_district_is_403(client_as: Callable[..., FlaskClient],
                                              run: dict[str, Any], path: str) -> None:
    response = client_as("planner", area=OTHER_DISTRICT).get(path)
    assert response.status_code == 403
    assert "不在您的辖区" in response.get_json()["error"]["message"]


def test_reads_default_to_the_readers_area_and_narrow_inside_it(
        planner: FlaskClient, client_as: Callable[..., FlaskClient], run: dict[str, Any]) -> None:
    district = planner.get(f"/api/coverage/areas?{Q}&level=district").get_json()
    assert district["parent"] == DISTRICT and [a["code"] for a in district["areas"]] == [DISTRICT]
    city = client_as("planner").get(f"/api/coverage/areas?{Q}&level=district").get_json()
    assert city["parent"] is None and DISTRICT in [a["code"] for a in city["areas"]]
    sub = run["subdistrict"]
    narrow = planner.get(f"/api/coverage/areas?{Q}&level=community&parent={sub}").get_json()
    assert narrow["areas"] and all(a["code"].startswith(sub) for a in narrow["areas"])
    csv_rows = planner.get(f"/api/coverage/buildings.csv?{Q}&area={sub}").data.decode("utf-8-sig")
    grid_codes = [line.split(",")[3] for line in csv_rows.splitlines()[1:]]
    assert grid_codes and all(code.startswith(sub) for code in grid_codes)
    histogram = planner.get(f"/api/coverage/distances?{Q}&area={sub}").get_json()
    whole = planner.get(f"/api/coverage/distances?{Q}").get_json()
    count = sum(b["buildings"] for b in histogram["bins"]) + histogram["unreached"]["buildings"]
    total = sum(b["buildings"] for b in whole["bins"]) + whole["unreached"]["buildings"]
    assert count == len(grid_codes) < total
    audit = planner.get("/api/coverage/audit?level=community").get_json()
    assert audit["area"] == DISTRICT


def test_a_community_reads_its_whole_district(client_as: Callable[..., FlaskClient],
                                              run: dict[str, Any]) -> None:
    staff = client_as("community_staff", area=run["community"])
    body = staff.get(f"/api/coverage/areas?{Q}&level=community").get_json()
    assert body["parent"] == DISTRICT and len(body["areas"]) > 1


def test_planning_is_for_planners_inside_their_district(
        planner: FlaskClient, client_as: Callable[..., FlaskClient], run: dict[str, Any]) -> None:
    body = {"type": TYPE, "circle": CIRCLE, "k": 1}
    for role, options in [("data_officer", {"area": DISTRICT}), ("admin", {}),
                          ("district_centre", {"area": DISTRICT})]:
        reader = client_as(role, **options)
        assert reader.post("/api/coverage/siting", json={**body, "area": DISTRICT}).status_code == 403
        assert reader.post("/api/coverage/what-if", json=body).status_code == 403
    other = client_as("planner", area=OTHER_DISTRICT)
    assert other.post("/api/coverage/siting", json={**body, "area": run["community"]}).status_code == 403
    city = client_as("planner")  # a city-wide planner: a district that is not loaded is a 404
    assert city.post("/api/coverage/siting", json={**body, "area": "210199"}).status_code == 404


def test_what_if_answers_only_inside_the_planners_district(
        planner: FlaskClient, client_as: Callable[..., FlaskClient], engine: Engine,
        run: dict[str, Any]) -> None:
    with engine.connect() as conn:
        facilities = conn.execute(text("SELECT id FROM facility WHERE type = :t ORDER BY id "
                                       "LIMIT 200"), {"t": TYPE}).scalars().all()
    edit = {"type": TYPE, "circle": CIRCLE, "remove": list(facilities), "level": "community"}
    ours = planner.post("/api/coverage/what-if", json=edit).get_json()
    assert ours["areas"] and all(a["code"].startswith(DISTRICT) for a in ours["areas"])
    assert ours["buildings_lost"] > 0
    theirs = client_as("planner", area=OTHER_DISTRICT).post("/api/coverage/what-if", json=edit)
    body = theirs.get_json()
    assert theirs.status_code == 200 and body["areas"] == [] and body["totals"]["residents"] == 0
    assert body["changed_buildings"] == 0 and DISTRICT.encode() not in theirs.data


# ---------------------------------------------------------------- one planning run per planner


def test_a_held_planning_lock_refuses_the_same_planner_only(
        app: Any, planner: FlaskClient, client_as: Callable[..., FlaskClient],
        run: dict[str, Any]) -> None:
    from gridmap.access import Principal, Role
    from gridmap.coverage.services import planning

    me = _principal_of(app, planner)
    other = client_as("planner", area=DISTRICT)
    body = {"type": TYPE, "circle": CIRCLE}
    engine = app.extensions["gridmap.read_engine"]
    with engine.connect() as conn, planning.one_at_a_time(conn, me):
        busy = planner.post("/api/coverage/what-if", json=body)
        assert busy.status_code == 409
        error = busy.get_json()["error"]
        assert error["code"] == "planning_running" and BUSY in error["message"]
        assert planner.post("/api/coverage/siting",
                            json={**body, "area": run["community"], "k": 1}).status_code == 409
        assert other.post("/api/coverage/what-if", json=body).status_code == 200
        with engine.connect() as second, pytest.raises(planning.PlanningRunning):
            with planning.one_at_a_time(second, me):
                pass
    assert planner.post("/api/coverage/what-if", json=body).status_code == 200
    with engine.connect() as conn, pytest.raises(Exception) as refused:
        with planning.one_at_a_time(conn, Principal(account_id=1, role=Role.ADMIN)):
            pass
    assert getattr(refused.value, "status", None) == 403


def _principal_of(app: Any, client: FlaskClient) -> Any:
    """The principal behind a signed-in test client (as the app loads it)."""
    from gridmap.web.auth import current_principal

    with app.test_request_context(headers={"Authorization":
                                           client.environ_base["HTTP_AUTHORIZATION"]}):
        app.preprocess_request()
        return current_principal()


@pytest.fixture
def committed_planner(engine: Engine) -> Iterator[dict[str, str]]:
    """A planner account committed to the database (concurrent requests each use their own
    connection, so the test's rolled-back transaction cannot hold it); removed afterwards."""
    from gridmap.accounts import credentials

    secret, digest, prefix = credentials.new_secret("gmt")
    with engine.begin() as conn:
        person = conn.execute(text("INSERT INTO person (name, role) VALUES ('并发规划', 'staff') "
                                   "RETURNING id")).scalar_one()
        account = conn.execute(text(
            "INSERT INTO account (username, person_id, role, area_code, password_hash, "
            "must_change_password) VALUES (:u, :p, 'planner', :a, 'x', false) RETURNING id"),
            {"u": f"c{uuid.uuid4().hex[:12]}", "p": person, "a": DISTRICT}).scalar_one()
        conn.execute(text("INSERT INTO api_token (account_id, name, digest, prefix) "
                          "VALUES (:a, 'test', :d, :p)"), {"a": account, "d": digest, "p": prefix})
    yield {"Authorization": f"Bearer {secret}"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_token WHERE account_id = :a"), {"a": account})
        conn.execute(text("DELETE FROM account WHERE id = :a"), {"a": account})
        conn.execute(text("DELETE FROM person WHERE id = :p"), {"p": person})


def test_two_concurrent_requests_of_one_planner(app: Any, committed_planner: dict[str, str],
                                                run: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The first request holds the lock while it computes; the second, meanwhile, gets 409."""
    from gridmap.coverage.services import siting

    inside, release = threading.Event(), threading.Event()
    real_site = siting.site

    def held_site(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(timeout=30)
        return real_site(*args, **kwargs)

    monkeypatch.setattr(siting, "site", held_site)
    body = {"type": TYPE, "circle": CIRCLE, "area": run["community"], "k": 1}
    answers: dict[str, Any] = {}

    def first() -> None:
        response = app.test_client().post("/api/coverage/siting", json=body,
                                          headers=committed_planner)
        answers["first"] = (response.status_code, response.get_json())

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(timeout=30), "the first request never started computing"
        second = app.test_client().post("/api/coverage/what-if",
                                        json={"type": TYPE, "circle": CIRCLE},
                                        headers=committed_planner)
        assert second.status_code == 409 and BUSY in second.get_json()["error"]["message"]
    finally:
        release.set()
        thread.join(timeout=60)
    assert answers["first"][0] == 200, answers["first"]
    after = app.test_client().post("/api/coverage/what-if", json={"type": TYPE, "circle": CIRCLE},
                                   headers=committed_planner)
    assert after.status_code == 200
