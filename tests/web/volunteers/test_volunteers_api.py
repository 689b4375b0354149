"""The Party layers and the volunteers API on the real PostGIS: the privacy matrix (zero leaks of
central households, volunteers' names and phones to another grid's worker, another community's
staff, department staff, planners, data officers, administrators and the public), tasks through
every step as single all-or-nothing writes, and imports that are all or nothing."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import Connection, text

PUBLIC, WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT = (
    "public", "worker", "other_worker", "community", "subdistrict", "district")
OTHER_COMMUNITY, DEPARTMENT, PLANNER, DATA_OFFICER, ADMIN = (
    "other_community", "department", "planner", "data_officer", "admin")
PRINCIPALS = (PUBLIC, WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, OTHER_COMMUNITY,
              DEPARTMENT, PLANNER, DATA_OFFICER, ADMIN)
SEES_A = {WORKER, COMMUNITY, SUBDISTRICT, DISTRICT}
"""Who may see grid A's households and community A's volunteers (written out, not computed)."""
STAFF = SEES_A | {OTHER_WORKER, OTHER_COMMUNITY}


@dataclass
class World:
    """Grid A (with a central household, a team and a volunteer in its community) and grid B
    in another sub-district, and every principal's headers."""

    grids: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    team: int = 0
    volunteer: int = 0
    household: str = ""


def _grids(tx: Connection) -> list[dict[str, Any]]:
    rows = tx.execute(text("""
        SELECT DISTINCT ON (left(m.grid_code, 9)) m.grid_code AS code, m.person_id AS worker,
               b.id AS building, b.code AS building_code, ST_X(ST_PointOnSurface(b.geom)) AS lon,
               ST_Y(ST_PointOnSurface(b.geom)) AS lat
        FROM grid_member m JOIN building b ON b.grid_code = m.grid_code
        WHERE m.role = 'grid_worker'
        ORDER BY left(m.grid_code, 9), m.grid_code, b.code LIMIT 2""")).mappings().all()
    return [dict(r) for r in rows]


@pytest.fixture
def world(api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> World:
    a, b = _grids(tx)
    w = World(grids={"A": a, "B": b})
    community = a["code"][:12]
    other = tx.execute(text("SELECT code FROM community WHERE code <> :c ORDER BY code LIMIT 1"),
                       {"c": community}).scalar_one()
    w.headers = {
        PUBLIC: {}, WORKER: login("grid_worker", person_id=a["worker"]),
        OTHER_WORKER: login("grid_worker", person_id=b["worker"]),
        COMMUNITY: login("community_staff", area=community),
        SUBDISTRICT: login("subdistrict_staff", area=a["code"][:9]),
        DISTRICT: login("district_centre", area=a["code"][:6]),
        OTHER_COMMUNITY: login("community_staff", area=other),
        DEPARTMENT: login("department_staff", department="housing"),
        PLANNER: login("planner", area=a["code"][:6]),
        DATA_OFFICER: login("data_officer", area=a["code"][:6]),
        ADMIN: login("admin"),
    }
    w.household = f"中心户{uuid.uuid4().hex[:8]}"
    person = tx.execute(text("INSERT INTO person (name, phone, role, community_code) VALUES "
                             "(:n, '13612345678', 'party_household', :c) RETURNING id"),
                        {"n": w.household, "c": community}).scalar_one()
    branch = tx.execute(text("INSERT INTO party_branch (community_code, name) VALUES "
                             "(:c, '测试网格党支部') RETURNING id"), {"c": community}).scalar_one()
    tx.execute(text("INSERT INTO party_branch_grid (grid_code, branch_id) VALUES (:g, :b)"),
               {"g": a["code"], "b": branch})
    group = tx.execute(text("INSERT INTO party_group (branch_id, building_id, name, leader_id) "
                            "VALUES (:br, :b, '测试党小组', :p) RETURNING id"),
                       {"br": branch, "b": a["building"], "p": person}).scalar_one()
    tx.execute(text("INSERT INTO party_household (person_id, building_id, group_id, unit, "
                    "household) VALUES (:p, :b, :g, '3单元', '502')"),
               {"p": person, "b": a["building"], "g": group})
    team = api.post("/api/volunteers/teams", headers=w.headers[COMMUNITY], json={
        "community_code": community, "name": f"测试队{uuid.uuid4().hex[:6]}",
        "skills": ["repair", "elder_care"]})
    assert team.status_code == 201, team.get_data()[:300]
    w.team = team.get_json()["id"]
    name = f"志愿者{uuid.uuid4().hex[:8]}"
    made = api.post(f"/api/volunteers/teams/{w.team}/volunteers", headers=w.headers[WORKER],
                    json={"name": name, "phone": "13598765432", "skills": ["repair"],
                          "availability": "周末", "leader": True})
    assert made.status_code == 201, made.get_data()[:300]
    w.volunteer = made.get_json()["id"]
    w.markers = [w.household, "13612345678", name, "13598765432"]
    return w


def _reads(w: World) -> dict[str, str]:
    c = w.grids["A"]["code"][:12]
    return {"counts": f"/api/party/counts?community={c}",
            "grids": f"/api/party/grids.geojson?community={c}",
            "branches": f"/api/party/branches.geojson?community={c}",
            "groups": f"/api/party/groups.geojson?community={c}",
            "households": f"/api/party/households.geojson?community={c}",
            "community": f"/api/volunteers/communities/{c}",
            "tasks": f"/api/volunteers/communities/{c}/tasks",
            "page": f"/volunteers?community={c}", "party_page": "/party"}


def _expected(read: str, who: str) -> set[int]:
    if read in ("counts", "grids", "branches", "groups", "community", "page", "party_page"):
        return {200}
    if who == PUBLIC:
        return {401}
    if who not in STAFF:
        return {403}
    if read == "households":
        return {200}
    return {200} if who in SEES_A else {404}


def test_privacy_matrix_leaks_nothing_of_grid_a(api: FlaskClient, world: World) -> None:
    failures = []
    for read, url in _reads(world).items():
        for who in PRINCIPALS:
            response = api.get(url, headers=world.headers[who])
            body = response.get_data(as_text=True)
            if response.status_code not in _expected(read, who):
                failures.append(f"{who} {read}: {response.status_code} {body[:160]!r}")
            shows_people = who in SEES_A and read in ("households", "groups", "community",
                                                      "tasks")
            leaked = [m for m in world.markers if m in body]
            if leaked and not shows_people:
                failures.append(f"LEAK {who} {read}: {leaked}")
            if read in ("households", "groups") and who in SEES_A and world.household not in body:
                failures.append(f"{who} does not see grid A's household in {read}")
            if read in ("branches", "groups") and "测试" not in body:
                failures.append(f"{who} does not see the branch or group in {read}")
            if read in ("community", "households") and response.status_code == 200 and \
                    read != "page" and response.headers.get("Cache-Control") != "private, no-store":
                failures.append(f"{who} {read}: cacheable")
    assert not failures, "\n".join(failures)


def test_the_public_sees_masked_names_and_team_ranking(api: FlaskClient, world: World) -> None:
    c = world.grids["A"]["code"][:12]
    public = api.get(f"/api/volunteers/communities/{c}").get_json()
    assert public["full"] is False and "volunteers" not in public and "tasks" not in public
    team = next(t for t in public["teams"] if t["id"] == world.team)
    assert "leader_phone" not in team and team["leader"].startswith("志") and "*" in team["leader"]
    staff = api.get(f"/api/volunteers/communities/{c}", headers=world.headers[COMMUNITY]).get_json()
    mine = next(v for v in staff["volunteers"] if v["id"] == world.volunteer)
    assert mine["phone"] == "13598765432" and mine["skills"] == ["repair"]


def test_household_counts_are_suppressed_outside_ones_scope(api: FlaskClient, world: World) -> None:
    code = world.grids["A"]["code"]
    query = f"/api/party/counts?community={code[:12]}"

    def grid_a(who: str) -> dict[str, Any]:
        body = api.get(query, headers=world.headers[who]).get_json()
        return next(g for g in body["grids"] if g["code"] == code)

    exact = grid_a(COMMUNITY)["households"]
    assert exact >= 1
    seen = grid_a(PUBLIC)
    assert seen["households"] == (None if exact < 5 else exact)
    assert seen["suppressed"] is (exact < 5)
    assert grid_a(PLANNER)["households"] == seen["households"]

    def community_a(who: str) -> dict[str, Any]:
        body = api.get(query, headers=world.headers[who]).get_json()
        return next(c for c in body["communities"] if c["code"] == code[:12])

    total = community_a(COMMUNITY)["households"]
    assert total >= exact and community_a(WORKER)["households"] == total
    assert community_a(PUBLIC)["households"] == (None if total < 5 else total)
    assert community_a(OTHER_COMMUNITY)["households"] == community_a(PUBLIC)["households"]


def _team_elsewhere(api: FlaskClient, world: World) -> int:
    """A new team of community B (another sub-district of the same district)."""
    made = api.post("/api/volunteers/teams", headers=world.headers[DISTRICT], json={
        "community_code": world.grids["B"]["code"][:12], "name": f"别队{uuid.uuid4().hex[:6]}"})
    assert made.status_code == 201, made.get_data()[:300]
    return int(made.get_json()["id"])


def _case(api: FlaskClient, world: World) -> int:
    grid = world.grids["A"]
    response = api.post("/api/cases", headers=world.headers[WORKER], json={
        "category": "heating", "description": f"志愿任务 {uuid.uuid4().hex}", "lon": grid["lon"],
        "lat": grid["lat"], "grid_code": grid["code"], "confirm_new": True})
    assert response.status_code == 201, response.get_data()[:300]
    return int(response.get_json()["case_id"])


def test_a_task_goes_open_accepted_done_and_earns_points(api: FlaskClient, world: World,
                                                       tx: Connection) -> None:
    h = world.headers[WORKER]
    case_id = _case(api, world)
    made = api.post("/api/volunteers/tasks", headers=h, json={
        "team_id": world.team, "case_id": case_id, "title": "帮忙检查暖气"})
    assert made.status_code == 201, made.get_data()[:300]
    task = made.get_json()["id"]
    again = api.post("/api/volunteers/tasks", headers=world.headers[COMMUNITY], json={
        "team_id": world.team, "case_id": case_id, "title": "再来一次"})
    assert again.status_code == 409 and "(" in again.get_json()["error"]["message"]
    early = api.post(f"/api/volunteers/tasks/{task}/done", headers=h, json={"hours": 2})
    assert early.status_code == 400
    assert api.post(f"/api/volunteers/tasks/{task}/accept", headers=h,
                    json={"volunteer_id": world.volunteer}).status_code == 200
    for bad in (0, -1, 1.25, 13, "abc"):
        refused = api.post(f"/api/volunteers/tasks/{task}/done", headers=h, json={"hours": bad})
        assert refused.status_code == 400, (bad, refused.get_data()[:200])
    done = api.post(f"/api/volunteers/tasks/{task}/done", headers=h, json={"hours": 2.5})
    assert done.status_code == 200, done.get_data()[:300]
    assert done.get_json() == {"id": task, "state": "done", "hours": 2.5, "points": 5 + 25}
    assert api.post(f"/api/volunteers/tasks/{task}/cancel", headers=h,
                    json={"reason": "晚了"}).status_code == 400
    view = api.get(f"/api/volunteers/communities/{world.grids['A']['code'][:12]}").get_json()
    ranked = next(t for t in view["ranking"]["teams"] if t["id"] == world.team)
    assert ranked["points"] == 30 and ranked["hours"] == 2.5
    row = tx.execute(text("SELECT state, hours, points, volunteer_id FROM volunteer_task "
                          "WHERE id = :i"), {"i": task}).one()
    assert (row.state, float(row.hours), row.points, row.volunteer_id) == (
        "done", 2.5, 30, world.volunteer)


def test_publishing_is_refused_outside_scope_and_to_other_communities(
        api: FlaskClient, world: World, tx: Connection) -> None:
    case_id = _case(api, world)
    body = {"team_id": world.team, "case_id": case_id, "title": "任务"}
    for who, status in ((OTHER_WORKER, 404), (OTHER_COMMUNITY, 404), (PLANNER, 403),
                        (DEPARTMENT, 403), (ADMIN, 403), (PUBLIC, 401)):
        response = api.post("/api/volunteers/tasks", headers=world.headers[who], json=body)
        assert response.status_code in ({status, 403} if who == PUBLIC else {status}), who
    other = _team_elsewhere(api, world)
    refused = api.post("/api/volunteers/tasks", headers=world.headers[DISTRICT],
                       json={**body, "team_id": other})
    assert refused.status_code == 400 and "community" in refused.get_json()["error"]["message"]
    both = api.post("/api/volunteers/tasks", headers=world.headers[WORKER],
                    json={**body, "visit_id": 1})
    assert both.status_code == 400
    assert tx.execute(text("SELECT count(*) FROM volunteer_task WHERE case_id = :c"),
                      {"c": case_id}).scalar_one() == 0


def test_a_visits_need_becomes_a_task_and_a_cancelled_one_can_be_published_again(
        api: FlaskClient, world: World) -> None:
    h = world.headers[WORKER]
    entry = api.post("/api/care/entries", headers=h, json={
        "building_code": world.grids["A"]["building_code"], "name": "关爱对象",
        "reasons": ["living_alone"]})
    assert entry.status_code == 201
    entry_id = entry.get_json()["id"]
    calm = api.post(f"/api/care/entries/{entry_id}/visits", headers=h, json={"findings": "良好"})
    refused = api.post("/api/volunteers/tasks", headers=h, json={
        "team_id": world.team, "visit_id": calm.get_json()["visit_id"], "title": "帮扶"})
    assert refused.status_code == 400
    need = api.post(f"/api/care/entries/{entry_id}/visits", headers=h, json={
        "findings": "家中水管漏水", "needs_help": True, "category": "heating"})
    assert need.status_code == 201, need.get_data()[:300]
    visit = need.get_json()["visit_id"]
    first = api.post("/api/volunteers/tasks", headers=h, json={
        "team_id": world.team, "visit_id": visit, "title": "上门修水管"})
    assert first.status_code == 201
    assert api.post(f"/api/volunteers/tasks/{first.get_json()['id']}/cancel", headers=h,
                    json={"reason": "物业已修"}).status_code == 200
    second = api.post("/api/volunteers/tasks", headers=h, json={
        "team_id": world.team, "visit_id": visit, "title": "复查"})
    assert second.status_code == 201
    listed = api.get(f"/api/volunteers/communities/{world.grids['A']['code'][:12]}/tasks",
                     headers=world.headers[COMMUNITY], query_string={"state": "cancelled"})
    assert first.get_json()["id"] in [t["id"] for t in listed.get_json()["tasks"]]


def test_accepting_needs_a_volunteer_of_the_team(api: FlaskClient, world: World,
                                                tx: Connection) -> None:
    case_id = _case(api, world)
    task = api.post("/api/volunteers/tasks", headers=world.headers[WORKER], json={
        "team_id": world.team, "case_id": case_id, "title": "任务"}).get_json()["id"]
    made = api.post(f"/api/volunteers/teams/{_team_elsewhere(api, world)}/volunteers",
                    headers=world.headers[DISTRICT], json={"name": "别队的人"})
    assert made.status_code == 201
    stranger = made.get_json()["id"]
    for body in ({}, {"volunteer_id": stranger}, {"volunteer_id": 2**40}):
        response = api.post(f"/api/volunteers/tasks/{task}/accept",
                            headers=world.headers[WORKER], json=body)
        assert response.status_code == 400, body
    assert tx.execute(text("SELECT state FROM volunteer_task WHERE id = :i"),
                      {"i": task}).scalar_one() == "open"


# --- imports -------------------------------------------------------------------------------

def _csv(rows: list[list[str]]) -> bytes:
    header = "社区编码,队伍名称,队伍专长,姓名,手机,技能,服务时间,队长\n"
    return (header + "\n".join(",".join(r) for r in rows) + "\n").encode("utf-8")


def _upload(api: FlaskClient, headers: dict[str, str], data: bytes, name: str,
            dry_run: bool = False) -> Any:
    return api.post("/api/volunteers/import", headers=headers,
                    content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), name), "dry_run": "1" if dry_run else "0"})


def _team_count(tx: Connection, name: str) -> int:
    return int(tx.execute(text("SELECT count(*) FROM volunteer_team WHERE name = :n"),
                          {"n": name}).scalar_one())


def test_import_is_all_or_nothing_and_names_row_and_column(api: FlaskClient, world: World,
                                                          tx: Connection) -> None:
    c = world.grids["A"]["code"][:12]
    team = f"导入队{uuid.uuid4().hex[:6]}"
    good = [c, team, "维修、助老服务", "张三", "13711112222", "repair", "周末", "是"]
    bad = [c, team, "", "李四", "12ab", "飞行", "周末", "也许"]
    response = _upload(api, world.headers[COMMUNITY], _csv([good, bad]), "v.csv")
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "第 3 行「phone」" in message and "第 3 行「skills」" in message
    assert "第 3 行「leader」" in message and "row 3" in message
    assert _team_count(tx, team) == 0
    dry = _upload(api, world.headers[COMMUNITY], _csv([good]), "v.csv", dry_run=True)
    assert dry.status_code == 200 and dry.get_json()["volunteers_new"] == 1
    assert _team_count(tx, team) == 0
    done = _upload(api, world.headers[COMMUNITY], _csv([good]), "v.csv")
    assert done.status_code == 201, done.get_data()[:300]
    assert _team_count(tx, team) == 1
    leader = tx.execute(text("SELECT v.name, t.skills FROM volunteer_team t JOIN volunteer v "
                             "ON v.id = t.leader_id WHERE t.name = :n"), {"n": team}).one()
    assert leader.name == "张三" and sorted(leader.skills) == ["elder_care", "repair"]
    again = _upload(api, world.headers[COMMUNITY], _csv([good]), "v.csv")
    assert again.get_json()["volunteers_updated"] == 1


def test_import_reads_xlsx_and_refuses_communities_outside_scope(
        api: FlaskClient, world: World, tx: Connection) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    team = f"表格队{uuid.uuid4().hex[:6]}"
    sheet.append(["community_code", "team", "name", "phone", "skills"])
    sheet.append([world.grids["A"]["code"][:12], team, "王五", "13800001111", "legal"])
    out = io.BytesIO()
    book.save(out)
    refused = _upload(api, world.headers[OTHER_COMMUNITY], out.getvalue(), "v.xlsx")
    assert refused.status_code == 422 and "第 2 行「community_code」" in refused.get_json()[
        "error"]["message"]
    assert _upload(api, world.headers[WORKER], out.getvalue(), "v.xlsx").status_code == 403
    made = _upload(api, world.headers[SUBDISTRICT], out.getvalue(), "v.xlsx")
    assert made.status_code == 201, made.get_data()[:300]
    assert _team_count(tx, team) == 1
    junk = _upload(api, world.headers[COMMUNITY], b"not a workbook", "v.xlsx")
    assert junk.status_code == 422


def test_every_view_of_households_by_name_is_logged(api: FlaskClient, world: World,
                                                   tx: Connection) -> None:
    c = world.grids["A"]["code"][:12]
    answer = api.get(f"/api/party/households.geojson?community={c}",
                     headers=world.headers[COMMUNITY]).get_json()
    shown = [f["id"] for f in answer["features"]]
    assert shown
    logged = tx.execute(text("SELECT target_id, detail FROM audit_log WHERE action = "
                             "'party_households_viewed' ORDER BY id DESC LIMIT 1")).one()
    assert logged.target_id == c and logged.detail["households"] == shown
