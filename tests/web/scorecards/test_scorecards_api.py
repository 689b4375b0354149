"""Monthly scorecards over HTTP on the real PostGIS: known cases in February 2020 (and January,
the month compared against), figures recomputed here from the specs by an independent oracle,
the reader's area, the CSV and the workbook read back with openpyxl, bad input. The workbook as
a background job (as the page asks for it): started, run here in-process as the worker would (in
the test's transaction), downloaded by its reader only.

The cases lie in 2020, far from anything else a test commits, and every test is rolled back.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from gridmap.jobs.services import runner
from gridmap.scorecards.services import workbooks

LOCAL = timedelta(hours=8)
H = timedelta(hours=1)


def local(m: int, d: int, hh: int) -> datetime:
    """A Shenyang wall-clock time in 2020 as an aware UTC instant."""
    return datetime(2020, m, d, hh, tzinfo=UTC) - LOCAL


@dataclass(frozen=True)
class Spec:
    """A case: grid key, creation, deadlines and outcomes as hours after reporting."""

    grid: str
    created: datetime
    state: str
    respond_h: float
    resolve_h: float
    responded_h: float | None = None
    resolved_h: float | None = None
    rating: str | None = None
    reopen_count: int = 0
    department: str | None = None


SPECS = [
    # February, grid a: on time; late on both; cancelled; reopened and not resolved again.
    Spec("a", local(2, 3, 9), "closed", 4, 48, 1, 10, "satisfied", department="housing"),
    Spec("a", local(2, 10, 9), "rated", 4, 24, 5, 30, "basically_satisfied", department="housing"),
    Spec("a", local(2, 11, 9), "cancelled", 4, 48, 1),
    Spec("a", local(2, 12, 9), "in_progress", 4, 24, 2, 20, "dissatisfied", 1),
    # 00:30 on 1 February in Shenyang is still 31 January in UTC: February.
    Spec("a2", datetime(2020, 1, 31, 16, 30, tzinfo=UTC), "closed", 4, 24, 1, 5, "satisfied"),
    # January, grid a: a late response, never resolved.
    Spec("a", local(1, 20, 9), "dispatched", 4, 24, 10),
    # February, another sub-district: never answered.
    Spec("b", local(2, 5, 9), "reported", 4, 24),
]
RESOLVED = {"resolved", "verified", "rated", "closed"}


def oracle(specs: list[Spec]) -> dict[str, Any]:
    """The figures of one unit's cases, straight from the definitions (all deadlines passed)."""
    valid = [s for s in specs if s.state != "cancelled"]
    on_resp = [s for s in valid if s.responded_h is not None and s.responded_h <= s.respond_h]
    on_res = [s for s in valid if s.state in RESOLVED and s.resolved_h is not None
              and s.resolved_h <= s.resolve_h]
    rated = [s for s in valid if s.rating]
    happy = [s for s in rated if s.rating in ("satisfied", "basically_satisfied")]
    reopened = [s for s in valid if s.reopen_count]

    def rate(n: list[Spec], d: list[Spec]) -> float | None:
        return len(n) / len(d) if d else None
    return {"cases": len(specs), "valid": len(valid), "reopened": len(reopened),
            "on_time_response_rate": rate(on_resp, valid),
            "on_time_resolution_rate": rate(on_res, valid),
            "satisfaction_rate": rate(happy, rated), "reopen_rate": rate(reopened, valid)}


def month_of(s: Spec) -> int:
    return (s.created + LOCAL).month


@pytest.fixture
def place(tx: Connection) -> dict[str, str]:
    """Two grids of one community (a, a2) and a grid of another sub-district (b)."""
    a, a2 = tx.execute(text("""
        SELECT code FROM grid WHERE community_code = (
            SELECT community_code FROM grid WHERE code LIKE '210103%'
            GROUP BY community_code HAVING count(*) >= 2 ORDER BY community_code LIMIT 1)
        ORDER BY code LIMIT 2""")).scalars().all()
    b = tx.execute(text("SELECT min(code) FROM grid WHERE code LIKE '210103%' AND left(code, 9) "
                        "<> :s"), {"s": a[:9]}).scalar_one()
    person = tx.execute(text("SELECT min(id) FROM person")).scalar_one()
    for s in SPECS:
        def after(hours: float | None, s: Spec = s) -> datetime | None:
            return None if hours is None else s.created + hours * H
        tx.execute(text("""
            INSERT INTO "case" (category, description, geom, grid_code, community_code,
                subdistrict_code, district_code, channel, state, owner_kind, owner_department,
                rating, reopen_count, created_by, created_at, updated_at, respond_by, resolve_by,
                responded_at, resolved_at)
            SELECT 'heating', 'scorecard', ST_PointOnSurface(g.geom), g.code, left(g.code, 12),
                   left(g.code, 9), left(g.code, 6), 'grid_patrol', :state, :kind, :dept,
                   :rating, :reopen, :person, :created, :created, :rb, :sb, :ra, :sa
            FROM grid g WHERE g.code = :grid RETURNING id"""), {
            "state": s.state, "kind": "department" if s.department else "grid",
            "dept": s.department, "rating": s.rating, "reopen": s.reopen_count, "person": person,
            "created": s.created, "rb": after(s.respond_h), "sb": after(s.resolve_h),
            "ra": after(s.responded_h), "sa": after(s.resolved_h),
            "grid": {"a": a, "a2": a2, "b": b}[s.grid]})
        if s.rating:  # the rating counted is the newest rate event's
            tx.execute(text("""
                INSERT INTO case_event (case_id, action, from_state, to_state, actor_id, payload,
                                        created_at)
                SELECT id, 'rate', 'verified', state, :p,
                       jsonb_build_object('rating', CAST(:r AS text)), now()
                FROM "case" WHERE created_at = :c AND description = 'scorecard'"""),
                {"p": person, "r": s.rating, "c": s.created})
    return {"a": a, "a2": a2, "b": b, "community": a[:12], "subdistrict": a[:9]}


@pytest.fixture
def city(api: Any, login: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login("planner")


def _rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in body["rows"]}


def _same(row: dict[str, Any], want: dict[str, Any], prefix: str = "") -> None:
    for key, value in want.items():
        got = row[prefix + key]
        assert got == pytest.approx(value) if value is not None else got is None, key


def test_grid_figures_ranks_and_change(api: Any, place: dict[str, str],
                                       city: dict[str, str]) -> None:
    body = api.get(f"/api/scorecards/grid?month=2020-02&area={place['community']}",
                   headers=city).get_json()
    assert body["month"] == "2020-02" and body["previous_month"] == "2020-01"
    rows = _rows(body)
    assert all(code.startswith(place["community"]) for code in rows)  # peers: this community
    for key in ("a", "a2"):
        feb = [s for s in SPECS if s.grid == key and month_of(s) == 2]
        jan = [s for s in SPECS if s.grid == key and month_of(s) == 1]
        _same(rows[place[key]], oracle(feb))
        _same(rows[place[key]], oracle(jan), prefix="prev_")
    a, a2 = rows[place["a"]], rows[place["a2"]]
    assert (a2["rank_on_time_response_rate"], a["rank_on_time_response_rate"]) == (1, 2)
    assert (a2["rank_reopen_rate"], a["rank_reopen_rate"]) == (1, 2)  # fewer reopened is better
    # January: grid a was the only grid with a rate, so first; now second: one place lost.
    assert a["prev_rank_on_time_response_rate"] == 1 and a["rank_change_on_time_response_rate"] == -1
    assert a["change_on_time_response_rate"] == pytest.approx(2 / 3 - 0)
    assert a["change_cases"] == 4 - 1
    idle = [r for code, r in rows.items() if code not in (place["a"], place["a2"])]
    assert idle and all(r["cases"] == 0 and r["rank_satisfaction_rate"] is None for r in idle)


def test_levels_and_department(api: Any, place: dict[str, str], city: dict[str, str]) -> None:
    def one(level: str, code: str) -> dict[str, Any]:
        body = api.get(f"/api/scorecards/{level}?month=2020-02&area=210103", headers=city)
        assert body.status_code == 200
        return _rows(body.get_json())[code]
    feb = [s for s in SPECS if month_of(s) == 2]
    _same(one("community", place["community"]),
          oracle([s for s in feb if s.grid in ("a", "a2")]))
    _same(one("subdistrict", place["subdistrict"]),
          oracle([s for s in feb if s.grid in ("a", "a2")]))
    _same(one("department", "housing"), oracle([s for s in feb if s.department == "housing"]))


def test_a_community_sees_only_its_area(api: Any, place: dict[str, str],
                                        login: Callable[..., dict[str, str]]) -> None:
    staff = login("community_staff", area=place["community"])
    body = api.get("/api/scorecards/grid?month=2020-02", headers=staff).get_json()
    assert body["area"] == place["community"] and place["a"] in _rows(body)
    assert all(code.startswith(place["community"]) for code in _rows(body))
    assert [r["code"] for r in api.get("/api/scorecards/community?month=2020-02",
                                       headers=staff).get_json()["rows"]] == [place["community"]]
    other = api.get(f"/api/scorecards/grid?area={place['b'][:9]}", headers=staff)
    assert other.status_code == 403
    worker = login("grid_worker")
    assert api.get("/api/scorecards/grid", headers=worker).status_code == 403
    assert api.get("/api/scorecards/grid").status_code == 401


def test_csv_is_excel_safe(api: Any, tx: Connection, place: dict[str, str],
                           city: dict[str, str]) -> None:
    tx.execute(text("UPDATE grid SET name = '=HYPERLINK(1)' WHERE code = :c"), {"c": place["a"]})
    response = api.get(f"/api/scorecards/grid.csv?month=2020-02&area={place['community']}",
                       headers=city)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    data = response.get_data(as_text=True)
    assert data.startswith("\ufeff代码,名称,受理案件数")
    rows = {r[0]: r for r in csv.reader(io.StringIO(data.lstrip("\ufeff")))}
    assert rows[place["a"]][1] == "'=HYPERLINK(1)" and rows[place["a"]][2] == "4"


def test_workbook_reads_back(api: Any, place: dict[str, str], city: dict[str, str]) -> None:
    response = api.get("/api/scorecards.xlsx?month=2020-02&area=210103", headers=city)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["网格", "社区", "街道", "部门", "指标说明"]
    sheet = book["网格"]
    assert sheet.freeze_panes == "C2"
    head = [c.value for c in sheet[1]]
    assert head[:3] == ["代码", "名称", "受理案件数"]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    rate = rows[place["a"]][head.index("按时响应率")]
    assert rate.value == pytest.approx(2 / 3) and rate.number_format == "0.0%"
    defs = [r[0].value for r in book["指标说明"].iter_rows()]
    assert "满意率" in defs and "志愿服务时长" in defs and "暂未纳入" not in defs


@pytest.mark.parametrize("url", ["/api/scorecards/district", "/api/scorecards/grid?month=2020-13",
                                 "/api/scorecards/grid?area=12", "/api/scorecards.xlsx?month=x",
                                 "/api/scorecards/x.csv"])
def test_bad_input_is_400(api: Any, city: dict[str, str], url: str) -> None:
    response = api.get(url, headers=city)
    assert response.status_code == 400
    assert "(" in response.get_json()["error"]["message"]  # Chinese first, English in brackets


def test_page_opens_on_a_level_the_reader_can_read(api: Any, city: dict[str, str],
                                                   login: Callable[..., dict[str, str]]) -> None:
    def config(headers: dict[str, str]) -> dict[str, Any]:
        page = api.get("/scorecards", headers=headers).get_data(as_text=True)
        start = page.index('id="gm-page-config">') + len('id="gm-page-config">')
        return json.loads(page[start:page.index("</script>", start)])
    whole_city = config(city)
    assert whole_city["defaultLevel"] == "subdistrict"  # not 14,471 grid rows on first open
    assert whole_city["levels"] == ["grid", "community", "subdistrict", "department"]
    assert config(login("community_staff", area="210103001001"))["defaultLevel"] == "grid"


Login = Callable[..., dict[str, str]]


def _work(app: Flask, media: Path, job_id: int) -> None:
    runner.run(app.extensions["gridmap.sessions"], workbooks.handlers(media), job_id,
               heartbeat_s=3600)


def _cells(data: bytes) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {name: [[c.value for c in row] for row in book[name].iter_rows()]
            for name in book.sheetnames}


def test_a_reader_starts_follows_and_downloads_the_workbook(
        app: Flask, api: FlaskClient, media: Path, place: dict[str, str],
        login: Login) -> None:
    reader = login("planner", area="210103")
    asked = {"month": "2020-02", "area": place["subdistrict"]}
    started = api.post("/api/scorecards/workbooks", headers=reader, json=asked)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert job["kind"] == workbooks.KIND and job["state"] == "queued"
    assert job["params"]["month"] == "2020-02" and job["params"]["area"] == place["subdistrict"]
    assert "token" not in job["params"] and "reader" not in job["params"]
    assert started.headers["Location"].endswith(f"/api/jobs/{job['id']}")
    again = api.post("/api/scorecards/workbooks", headers=reader, json=asked)
    assert again.status_code == 200 and again.get_json()["job"]["id"] == job["id"]
    url = f"/api/scorecards/workbooks/{job['id']}.xlsx"
    not_yet = api.get(url, headers=reader)
    assert not_yet.status_code == 409 and "尚未" in not_yet.get_json()["error"]["message"]

    _work(app, media, job["id"])
    done = api.get(f"/api/jobs/{job['id']}", headers=reader).get_json()["job"]
    assert done["state"] == "succeeded", done
    assert done["result"]["month"] == "2020-02" and "token" not in str(done["result"])
    response = api.get(url, headers=reader)
    assert response.status_code == 200 and response.mimetype == workbooks_mimetype()
    assert 'filename="scorecard-2020-02.xlsx"' in response.headers["Content-Disposition"] \
        or "filename=scorecard-2020-02.xlsx" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()
    same = api.get(f"/api/scorecards.xlsx?month=2020-02&area={place['subdistrict']}",
                   headers=reader)
    assert same.status_code == 200
    built, direct = _cells(data), _cells(same.get_data())
    assert list(built) == ["网格", "社区", "街道", "部门", "指标说明"] == list(direct)
    assert built == direct  # the same figures as the reader would download at once
    grid_rows = {row[0]: row for row in built["网格"][1:]}
    assert place["a"] in grid_rows and all(code.startswith(place["subdistrict"])
                                           for code in grid_rows)
    assert len(list((media / workbooks.FOLDER).glob("*.xlsx"))) == 1

    # Another reader, even one of the same district, does not see the job nor the file; an
    # administrator may.
    colleague = login("planner", area="210103")
    assert api.get(url, headers=colleague).status_code == 404
    assert api.get(f"/api/jobs/{job['id']}", headers=colleague).status_code == 404
    jobs_seen = api.get("/api/jobs", headers=colleague).get_json()["jobs"]
    assert job["id"] not in [j["id"] for j in jobs_seen]
    admin = api.get(url, headers=login("admin"))
    assert admin.status_code == 200
    admin.close()
    # A job of another kind is not a workbook.
    assert api.get("/api/scorecards/workbooks/999999999.xlsx", headers=reader).status_code == 404


def test_a_community_reader_gets_their_area(app: Flask, api: FlaskClient, media: Path,
                                            place: dict[str, str],
                                            login: Login) -> None:
    staff = login("community_staff", area=place["community"])
    started = api.post("/api/scorecards/workbooks", headers=staff, json={"month": "2020-02"})
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert job["params"]["area"] == place["community"]
    _work(app, media, job["id"])
    response = api.get(f"/api/scorecards/workbooks/{job['id']}.xlsx", headers=staff)
    assert response.status_code == 200
    sheets = _cells(response.get_data())
    response.close()
    assert [row[0] for row in sheets["社区"][1:]] == [place["community"]]


def workbooks_mimetype() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(("role", "area", "body", "status"), [
    ("planner", None, {"month": "2020-13"}, 400),
    ("planner", None, {"month": "x", "area": "12"}, 400),
    ("planner", None, {"month": 202002}, 400),
    ("planner", "210103", {"month": "2020-02", "area": "210104"}, 403),
    ("grid_worker", None, {"month": "2020-02"}, 403),
])
def test_bad_input_starts_no_job(api: FlaskClient, tx: Connection, login: Login,
                                 role: str, area: str | None, body: dict[str, Any],
                                 status: int) -> None:
    headers = login(role, area=area) if area else login(role)
    before = tx.execute(text("SELECT count(*) FROM job")).scalar_one()
    response = api.post("/api/scorecards/workbooks", headers=headers, json=body)
    assert response.status_code == status
    assert "(" in response.get_json()["error"]["message"]  # Chinese first, English in brackets
    assert tx.execute(text("SELECT count(*) FROM job")).scalar_one() == before


def test_old_workbooks_are_pruned(tmp_path: Path) -> None:
    folder = tmp_path / workbooks.FOLDER
    folder.mkdir()
    old, new = folder / "old.xlsx", folder / "new.xlsx"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    week_ago = time.time() - workbooks.KEEP_S - 60
    os.utime(old, (week_ago, week_ago))
    assert workbooks.prune(tmp_path) == 1
    assert not old.exists() and new.exists()
    assert workbooks.prune(tmp_path / "nothing") == 0
