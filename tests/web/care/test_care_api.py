"""The care register API on the real PostGIS: the privacy matrix (zero leaks to another grid's
worker, department staff, planners, data officers, administrators and the public), logged views,
visits that open a case all or nothing, and the monthly zero report."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

PUBLIC, WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT = (
    "public", "worker", "other_worker", "community", "subdistrict", "district")
OTHER_COMMUNITY, DEPARTMENT, PLANNER, DATA_OFFICER, ADMIN = (
    "other_community", "department", "planner", "data_officer", "admin")
PRINCIPALS = (PUBLIC, WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, OTHER_COMMUNITY,
              DEPARTMENT, PLANNER, DATA_OFFICER, ADMIN)
SEES_A = {WORKER, COMMUNITY, SUBDISTRICT, DISTRICT}
"""Who may see grid A's residents (written out, not computed)."""
CARE_STAFF = SEES_A | {OTHER_WORKER, OTHER_COMMUNITY}
SUPERVISORS = {COMMUNITY, SUBDISTRICT, DISTRICT, OTHER_COMMUNITY}


@dataclass
class Care:
    """Two grids in different sub-districts, one register entry in each, and the headers."""

    grids: dict[str, str] = field(default_factory=dict)
    buildings: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def _grids(tx: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = tx.execute(text("""
        WITH worked AS (
          SELECT DISTINCT ON (left(m.grid_code, 9)) m.grid_code, m.person_id, b.code AS building,
                 ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat
          FROM grid_member m JOIN building b ON b.grid_code = m.grid_code
          WHERE m.role = 'grid_worker'
          ORDER BY left(m.grid_code, 9), m.grid_code, b.code)
        SELECT * FROM worked ORDER BY grid_code LIMIT 2""")).mappings().all()
    return dict(rows[0]), dict(rows[1])


@pytest.fixture
def care(api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> Care:
    a, b = _grids(tx)
    w = Care(grids={"A": a["grid_code"], "B": b["grid_code"]}, buildings={"A": a, "B": b})
    other_community = tx.execute(text("SELECT code FROM community WHERE code <> :c ORDER BY code "
                                      "LIMIT 1"), {"c": a["grid_code"][:12]}).scalar_one()
    w.headers = {
        PUBLIC: {}, WORKER: login("grid_worker", person_id=a["person_id"]),
        OTHER_WORKER: login("grid_worker", person_id=b["person_id"]),
        COMMUNITY: login("community_staff", area=a["grid_code"][:12]),
        SUBDISTRICT: login("subdistrict_staff", area=a["grid_code"][:9]),
        DISTRICT: login("district_centre", area=a["grid_code"][:6]),
        OTHER_COMMUNITY: login("community_staff", area=other_community),
        DEPARTMENT: login("department_staff", department="housing"),
        PLANNER: login("planner", area=a["grid_code"][:6]),
        DATA_OFFICER: login("data_officer", area=a["grid_code"][:6]),
        ADMIN: login("admin"),
    }
    for tag, who, phone in (("A", WORKER, "13700001111"), ("B", OTHER_WORKER, "13900002222")):
        name = f"关爱{tag}{uuid.uuid4().hex[:10]}"
        response = api.post("/api/care/entries", headers=w.headers[who], json={
            "building_code": w.buildings[tag]["building"], "name": name, "phone": phone,
            "reasons": ["living_alone", "aged_80_plus"], "unit": "2单元", "household": "301",
            "carer": "女儿 每周来"})
        assert response.status_code == 201, response.get_data()[:300]
        w.entries[tag], w.names[tag], w.phones[tag] = response.get_json()["id"], name, phone
    return w


def _city_month() -> str:
    from gridmap.care.rules import this_month

    return this_month(datetime.now(UTC)).strftime("%Y-%m")


def _reads(w: Care) -> dict[str, str]:
    a = w.grids["A"]
    return {"register": f"/api/care/grids/{a}/entries", "entry": f"/api/care/entries/{w.entries['A']}",
            "month": f"/api/care/grids/{a}/months/{_city_month()}",
            "overview": f"/api/care/overview?community={a[:12]}",
            "overview_geojson": f"/api/care/overview.geojson?community={a[:12]}",
            "counts": f"/api/care/counts?community={a[:12]}", "reference": "/api/care/reference"}


def _expected(read: str, who: str) -> set[int]:
    if read in ("counts", "reference"):
        return {200}
    if who == PUBLIC:
        return {401}
    if read.startswith("overview"):
        if who in (COMMUNITY, SUBDISTRICT, DISTRICT):
            return {200}
        return {404} if who == OTHER_COMMUNITY else {403}
    if who in SEES_A:
        return {200}
    return {404} if who in CARE_STAFF else {403}


def test_privacy_matrix_leaks_nothing_of_grid_a(api: FlaskClient, care: Care) -> None:
    failures = []
    for read, url in _reads(care).items():
        for who in PRINCIPALS:
            response = api.get(url, headers=care.headers[who])
            body = response.get_data(as_text=True)
            if response.status_code not in _expected(read, who):
                failures.append(f"{who} {read}: {response.status_code} {body[:120]!r}")
            sees = who in SEES_A and read in ("register", "entry", "month")
            leaked = [m for m in (care.names["A"], care.phones["A"]) if m in body]
            if leaked and not sees:
                failures.append(f"LEAK {who} {read}: {leaked}")
            if care.names["B"] in body or care.phones["B"] in re.sub(r"\D", "", body):
                failures.append(f"LEAK of B to {who} {read}")
    assert not failures, "\n".join(failures)


def test_every_view_of_an_entry_is_logged(api: FlaskClient, care: Care, tx: Connection) -> None:
    def logged() -> int:
        return int(tx.execute(text(
            "SELECT count(*) FROM audit_log WHERE action IN ('care_entry_viewed', "
            "'care_register_viewed')")).scalar_one())

    before = logged()
    for url in (_reads(care)["entry"], _reads(care)["register"], _reads(care)["month"]):
        assert api.get(url, headers=care.headers[COMMUNITY]).status_code == 200
    assert logged() == before + 3
    row = tx.execute(text("SELECT target_kind, target_id FROM audit_log WHERE action = "
                          "'care_entry_viewed' ORDER BY id DESC LIMIT 1")).one()
    assert tuple(row) == ("care_entry", str(care.entries["A"]))
    # A refused view writes nothing (and shows nothing).
    assert api.get(_reads(care)["entry"], headers=care.headers[OTHER_WORKER]).status_code == 404
    assert logged() == before + 3


def test_public_counts_suppress_small_numbers(api: FlaskClient, care: Care) -> None:
    answer = api.get(_reads(care)["counts"]).get_json()
    mine = next(g for g in answer["grids"] if g["code"] == care.grids["A"])
    assert mine == {"code": care.grids["A"], "name": mine["name"], "entries": None,
                    "suppressed": True}
    assert all(g["entries"] is None or g["entries"] == 0 or g["entries"] >= 5
               for g in answer["grids"])


def test_a_visit_that_needs_help_opens_a_linked_case(api: FlaskClient, care: Care,
                                                     tx: Connection) -> None:
    b = care.buildings["A"]
    response = api.post(f"/api/care/entries/{care.entries['A']}/visits",
                        headers=care.headers[WORKER],
                        json={"findings": "暖气不热，老人行动不便", "needs_help": True,
                              "category": "heating", "lon": b["lon"], "lat": b["lat"]})
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["case_id"] and answer["far"] is False and answer["distance_m"] == 0
    case = tx.execute(text('SELECT channel, grid_code, description, reporter_name FROM "case" '
                           "WHERE id = :i"), {"i": answer["case_id"]}).one()
    assert tuple(case) == ("proactive_visit", care.grids["A"], "暖气不热，老人行动不便", "")
    visit = tx.execute(text("SELECT case_id, needs_help FROM care_visit WHERE id = :i"),
                       {"i": answer["visit_id"]}).one()
    assert tuple(visit) == (answer["case_id"], True)
    assert tx.execute(text("SELECT last_visit_at IS NOT NULL FROM care_entry WHERE id = :i"),
                      {"i": care.entries["A"]}).scalar_one()


def test_a_visit_and_its_case_are_all_or_nothing(api: FlaskClient, care: Care,
                                                 tx: Connection) -> None:
    def counts() -> tuple[int, int]:
        return tuple(tx.execute(text(  # type: ignore[return-value]
            'SELECT (SELECT count(*) FROM care_visit), (SELECT count(*) FROM "case")')).one())

    before = counts()
    response = api.post(f"/api/care/entries/{care.entries['A']}/visits",
                        headers=care.headers[WORKER],
                        json={"findings": "需要帮助", "needs_help": True, "category": "no_such"})
    assert response.status_code == 400, response.get_json()
    assert "category" in response.get_json()["error"]["message"]
    assert counts() == before


def test_a_visit_far_from_the_building_is_flagged(api: FlaskClient, care: Care) -> None:
    b = care.buildings["A"]
    response = api.post(f"/api/care/entries/{care.entries['A']}/visits",
                        headers=care.headers[WORKER],
                        json={"findings": "一切正常", "lon": b["lon"] + 0.01, "lat": b["lat"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["far"] is True
    assert response.get_json()["distance_m"] > 500


@pytest.mark.parametrize(("who", "status"), [(COMMUNITY, 403), (OTHER_WORKER, 404),
                                             (PLANNER, 403), (PUBLIC, 401)])
def test_only_the_grids_worker_logs_visits(api: FlaskClient, care: Care, who: str,
                                           status: int) -> None:
    response = api.post(f"/api/care/entries/{care.entries['A']}/visits",
                        headers=care.headers[who], json={"findings": "x"})
    assert response.status_code in ({status, 403} if who == PUBLIC else {status})


def test_zero_report_is_refused_until_every_entry_is_visited_or_explained(
        api: FlaskClient, care: Care, tx: Connection) -> None:
    a, month = care.grids["A"], _city_month()
    report = f"/api/care/grids/{a}/months/{month}/report"
    checklist = api.get(f"/api/care/grids/{a}/months/{month}", headers=care.headers[WORKER])
    pending = [e for e in checklist.get_json()["entries"] if e["status"] == "pending"]
    assert care.entries["A"] in [e["id"] for e in pending]
    missing = api.post(report, headers=care.headers[WORKER], json={})
    assert missing.status_code == 400 and "no_new_difficulty" in missing.get_json()["error"]["message"]
    refused = api.post(report, headers=care.headers[WORKER], json={"no_new_difficulty": True})
    assert refused.status_code == 409
    assert care.names["A"] in refused.get_json()["error"]["message"]
    for entry in pending:
        done = api.post(f"/api/care/entries/{entry['id']}/explanations",
                        headers=care.headers[WORKER], json={"month": month, "reason": "住院"})
        assert done.status_code == 200, done.get_json()
    filed = api.post(report, headers=care.headers[WORKER], json={"no_new_difficulty": True})
    assert filed.status_code == 201, filed.get_json()
    again = api.post(report, headers=care.headers[WORKER], json={"no_new_difficulty": True})
    assert again.status_code == 409
    assert api.post(report, headers=care.headers[COMMUNITY],
                    json={"no_new_difficulty": True}).status_code == 403
    overview = api.get(f"/api/care/overview?community={a[:12]}&month={month}",
                       headers=care.headers[COMMUNITY]).get_json()
    row = next(g for g in overview["grids"] if g["code"] == a)
    assert row["reported"] is True and row["entries"] >= 1
    assert all(g["code"].startswith(a[:12]) for g in overview["grids"])


def test_overview_counts_overdue_entries_set_based(api: FlaskClient, care: Care,
                                                   tx: Connection) -> None:
    tx.execute(text("UPDATE care_entry SET created_at = now() - interval '20 days' "
                    "WHERE id = :i"), {"i": care.entries["A"]})  # weekly rule: overdue
    a = care.grids["A"]
    geo = api.get(f"/api/care/overview.geojson?subdistrict={a[:9]}&problems_only=1",
                  headers=care.headers[SUBDISTRICT])
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    feature = next(f for f in geo.get_json()["features"] if f["id"] == a)
    assert feature["properties"]["overdue"] >= 1
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert care.names["A"] not in geo.get_data(as_text=True)


def test_closing_an_entry_takes_it_off_the_register_and_is_logged(
        api: FlaskClient, care: Care, tx: Connection) -> None:
    url = f"/api/care/entries/{care.entries['A']}/close"
    assert api.post(url, headers=care.headers[WORKER], json={}).status_code == 400
    assert api.post(url, headers=care.headers[OTHER_WORKER],
                    json={"reason": "搬走"}).status_code == 404
    assert api.post(url, headers=care.headers[PLANNER], json={"reason": "搬走"}).status_code == 403
    done = api.post(url, headers=care.headers[COMMUNITY], json={"reason": "已搬至子女家"})
    assert done.status_code == 200, done.get_json()
    assert api.post(url, headers=care.headers[WORKER],
                    json={"reason": "搬走"}).status_code == 409
    register = api.get(f"/api/care/grids/{care.grids['A']}/entries",
                       headers=care.headers[WORKER]).get_json()
    assert care.entries["A"] not in [e["id"] for e in register["entries"]]
    visit = api.post(f"/api/care/entries/{care.entries['A']}/visits",
                     headers=care.headers[WORKER], json={"findings": "x"})
    assert visit.status_code == 400
    assert tx.execute(text("SELECT count(*) FROM audit_log WHERE action = 'care_entry_closed' "
                           "AND target_id = :i"), {"i": str(care.entries["A"])}).scalar_one() == 1


def test_an_entry_closed_during_the_month_does_not_hold_the_report_back(
        api: FlaskClient, care: Care, tx: Connection) -> None:
    a, month = care.grids["A"], _city_month()
    tx.execute(text("""UPDATE care_entry e SET active = false, closed_at = now(),
                              closed_reason = '测试结案'
                       FROM building b WHERE b.id = e.building_id AND b.grid_code = :g"""),
               {"g": a})
    checklist = api.get(f"/api/care/grids/{a}/months/{month}",
                        headers=care.headers[WORKER]).get_json()
    assert {e["status"] for e in checklist["entries"]} == {"closed"}
    assert checklist["totals"]["pending"] == 0
    filed = api.post(f"/api/care/grids/{a}/months/{month}/report", headers=care.headers[WORKER],
                     json={"no_new_difficulty": True})
    assert filed.status_code == 201, filed.get_json()


def test_overview_rows_carry_the_months_checklist_and_report_state(
        api: FlaskClient, care: Care, tx: Connection) -> None:
    """Per grid: the worker, the month's checklist in counts (as the grid's own checklist
    says) and the report state against the deadline (the 5th of the next month)."""
    a, month = care.grids["A"], _city_month()
    tx.execute(text("UPDATE care_entry SET created_at = now() - interval '40 days' "
                    "WHERE id = :i"), {"i": care.entries["A"]})
    answer = api.get(f"/api/care/overview?community={a[:12]}&month={month}",
                     headers=care.headers[COMMUNITY]).get_json()
    row = next(g for g in answer["grids"] if g["code"] == a)
    checklist = api.get(f"/api/care/grids/{a}/months/{month}",
                        headers=care.headers[COMMUNITY]).get_json()
    assert {k: row[k] for k in ("visited", "explained", "closed", "pending")} == {
        k: checklist["totals"][k] for k in ("visited", "explained", "closed", "pending")}
    worker = tx.execute(text("SELECT p.name FROM grid_member m JOIN person p ON p.id = "
                             "m.person_id WHERE m.grid_code = :g AND m.role = 'grid_worker' "
                             "ORDER BY m.person_id LIMIT 1"), {"g": a}).scalar_one()
    assert row["worker"] == worker and row["pending"] >= 1
    assert row["report_state"] == "not_due"  # this month's deadline lies ahead
    assert answer["due_by"] == _due_by(month) and answer["totals"]["not_due"] >= 1
    # Last month, unreported: late once the 5th has passed; a report after it is "late".
    last = tx.execute(text("SELECT to_char(date_trunc('month', now() AT TIME ZONE "
                           "'Asia/Shanghai') - interval '1 month', 'YYYY-MM')")).scalar_one()
    old = api.get(f"/api/care/overview?community={a[:12]}&month={last}",
                  headers=care.headers[COMMUNITY]).get_json()
    expected = "late" if datetime.now(UTC).isoformat() >= _deadline_utc(last) else "not_due"
    assert next(g for g in old["grids"] if g["code"] == a)["report_state"] == expected
    tx.execute(text("INSERT INTO care_zero_report (grid_code, month, no_new_difficulty, "
                    "submitted_by, submitted_at) SELECT :g, CAST(:m AS date), true, min(id), "
                    "CAST(:at AS timestamptz) FROM person"),
               {"g": a, "m": f"{last}-01", "at": f"{_due_by(last)}T23:59:00+08:00"})
    again = api.get(f"/api/care/overview?community={a[:12]}&month={last}",
                    headers=care.headers[COMMUNITY]).get_json()
    assert next(g for g in again["grids"] if g["code"] == a)["report_state"] == "reported"
    tx.execute(text("UPDATE care_zero_report SET submitted_at = CAST(:at AS timestamptz) "
                    "WHERE grid_code = :g AND month = CAST(:m AS date)"),
               {"g": a, "m": f"{last}-01", "at": f"{_due_by(last)}T23:59:00+07:00"})
    late = api.get(f"/api/care/overview?community={a[:12]}&month={last}",
                   headers=care.headers[COMMUNITY]).get_json()
    assert next(g for g in late["grids"] if g["code"] == a)["report_state"] == "reported_late"


def _due_by(month: str) -> str:
    """The last day a month's report is on time, written out: the 5th of the next month."""
    year, mon = int(month[:4]), int(month[5:])
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return f"{year:04d}-{mon:02d}-05"


def _deadline_utc(month: str) -> str:
    return (datetime.fromisoformat(f"{_due_by(month)}T00:00:00+08:00")
            .replace(day=6).astimezone(UTC).isoformat())


def test_a_resent_visit_finds_the_first_and_its_case(api: FlaskClient, care: Care,
                                                     tx: Connection) -> None:
    def counts() -> tuple[int, int]:
        return tuple(tx.execute(text(  # type: ignore[return-value]
            'SELECT (SELECT count(*) FROM care_visit), (SELECT count(*) FROM "case")')).one())

    url = f"/api/care/entries/{care.entries['A']}/visits"
    body = {"findings": "需要送餐", "needs_help": True, "category": "heating",
            "client_token": "phone-7f3a"}
    first = api.post(url, headers=care.headers[WORKER], json=body)
    assert first.status_code == 201, first.get_json()
    before = counts()
    again = api.post(url, headers=care.headers[WORKER], json={**body, "findings": "重发"})
    assert again.status_code == 200 and again.get_json() == {**first.get_json(),
                                                             "existing": True}
    assert counts() == before
    # Another worker's (or another entry's) visit is not found through a token.
    other = api.post(f"/api/care/entries/{care.entries['B']}/visits",
                     headers=care.headers[OTHER_WORKER], json={**body, "needs_help": False})
    assert other.status_code == 400 and "client_token" in other.get_json()["error"]["message"]
    assert counts() == before


def test_staff_over_the_grid_explain_an_entry(api: FlaskClient, care: Care) -> None:
    url = f"/api/care/entries/{care.entries['A']}/explanations"
    body = {"month": _city_month(), "reason": "随子女外出"}
    assert api.post(url, headers=care.headers[COMMUNITY], json=body).status_code == 200
    assert api.post(url, headers=care.headers[OTHER_COMMUNITY], json=body).status_code == 404
    assert api.post(url, headers=care.headers[PLANNER], json=body).status_code == 403
    checklist = api.get(f"/api/care/grids/{care.grids['A']}/months/{_city_month()}",
                        headers=care.headers[WORKER]).get_json()
    entry = next(e for e in checklist["entries"] if e["id"] == care.entries["A"])
    assert (entry["status"], entry["explanation"]) == ("explained", "随子女外出")


def test_care_pages_follow_the_roles(api: FlaskClient, care: Care) -> None:
    a = care.grids["A"]
    assert api.get("/care", headers=care.headers[COMMUNITY]).status_code == 200
    to_visits = api.get("/care", headers=care.headers[WORKER])
    assert to_visits.status_code == 302 and to_visits.location.endswith("/care/visits")
    assert api.get("/care", headers=care.headers[PLANNER]).status_code == 403
    month = api.get(f"/care/grids/{a}/month", headers=care.headers[WORKER])
    assert month.status_code == 200 and a in month.get_data(as_text=True)
    assert care.names["A"] not in month.get_data(as_text=True)  # names come from the API
    assert api.get(f"/care/grids/{a}/month", headers=care.headers[OTHER_WORKER]).status_code == 404
    assert api.get("/care/grids/12/month", headers=care.headers[WORKER]).status_code == 400
    nav = api.get("/care/visits", headers=care.headers[WORKER]).get_data(as_text=True)
    assert 'href="/care/visits"' in nav and 'href="/care"' not in nav
    staff = api.get("/care", headers=care.headers[COMMUNITY]).get_data(as_text=True)
    assert 'href="/care"' in staff and 'href="/care/visits"' not in staff
