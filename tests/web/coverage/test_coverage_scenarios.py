"""Saved what-if scenarios: saving computes the what-if again and stores it; planners see their
own and those saved in their area; compare; CSV and GeoJSON exports hold what was stored.

One run (elder-care stations, 15-minute circle) is computed and committed for the module, as in
test_coverage_planning; the scenarios are written in each test's rolled-back transaction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

TYPE, CIRCLE = "elder_care_station", "15min"
DISTRICT = "210103"  # 沈河区, the district the test database holds
OTHER_DISTRICT = "210104"  # 大东区: its planners may not see 沈河区's scenarios


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[int]:
    """A committed run of the type and circle; yields its id."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    yield report.run_id
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


@pytest.fixture(scope="module")
def edits(engine: Engine, run: int) -> dict[str, Any]:
    """A what-if body that changes coverage: open a facility at the uncovered building with the
    most elderly, close the facility that covers the most buildings."""
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(b.geom) AS p "
            "FROM coverage_building c JOIN building b ON b.id = c.building_id "
            "WHERE c.run_id = :r AND NOT c.covered ORDER BY b.aged_60_plus DESC, b.id LIMIT 1) x"),
            {"r": run}).one()
        fid, code = conn.execute(text(
            "SELECT f.id, f.code FROM coverage_building c JOIN facility f ON f.id = c.facility_id "
            "WHERE c.run_id = :r AND c.covered GROUP BY f.id, f.code "
            "ORDER BY count(*) DESC, f.id LIMIT 1"), {"r": run}).one()
    return {"type": TYPE, "circle": CIRCLE, "level": "community",
            "add": [[round(lon, 6), round(lat, 6)]], "remove": [code],
            "facility": {"id": fid, "code": code}}


def _body(edits: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**{k: v for k, v in edits.items() if k != "facility"}, **extra}


def _count(tx: Connection) -> int:
    return int(tx.execute(text("SELECT count(*) FROM whatif_scenario")).scalar_one())


def _save(client: FlaskClient, edits: dict[str, Any], name: str, **extra: Any) -> int:
    answer = client.post("/api/coverage/scenarios", json=_body(edits, name=name, **extra))
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["id"])


def test_save_recomputes_and_reads_back_as_computed(planner: FlaskClient, tx: Connection,
                                                    edits: dict[str, Any], run: int) -> None:
    what_if = planner.post("/api/coverage/what-if", json=_body(edits)).get_json()
    before = _count(tx)
    # Figures a page might send are ignored: the server computes the what-if again.
    answer = planner.post("/api/coverage/scenarios", json=_body(
        edits, name=" 东移一处 ", note="试算\n第二行", totals={"elderly": 1}))
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert answer.headers["Location"].endswith(f"/api/coverage/scenarios/{created['id']}")
    assert created["page"] == f"/coverage/scenarios/{created['id']}"
    assert _count(tx) == before + 1
    s = planner.get(created["url"]).get_json()
    assert s["name"] == "东移一处" and s["note"] == "试算\n第二行" and s["mine"]
    assert (s["facility_type"], s["circle"], s["level"]) == (TYPE, CIRCLE, "community")
    assert s["area_code"] == DISTRICT
    assert s["run"]["id"] == run and not s["run"]["newer_exists"]
    assert s["add"] == edits["add"]
    assert [f["code"] for f in s["remove"]] == [edits["facility"]["code"]]
    assert s["remove"][0]["id"] == edits["facility"]["id"] and s["remove"][0]["name"]
    result = s["result"]
    assert result["totals"] == what_if["totals"]
    assert result["buildings_gained"] == what_if["buildings_gained"]
    assert result["buildings_lost"] == what_if["buildings_lost"]
    stored = {a["code"]: a for a in result["areas"]}
    assert all(code.startswith(DISTRICT) and len(code) == 12 for code in stored)
    for changed in what_if["areas"]:  # every area the what-if changes, with the same figures
        assert {k: stored[changed["code"]][k] for k in changed} == changed
    assert all(a["name"] for a in result["areas"])
    assert what_if["areas"], "the edits should change some community"


@pytest.mark.parametrize("change", [
    {"name": ""}, {"name": "   "}, {"name": "长" * 81}, {"name": 5}, {"note": "x" * 2001},
    {"name": None}, {"add": [[200.0, 41.8]]}, {"remove": ["NO-SUCH-CODE"]}, {"type": "nope"},
    {"level": "street"}])
def test_bad_input_is_400_and_stores_nothing(planner: FlaskClient, tx: Connection,
                                             edits: dict[str, Any], change: dict[str, Any]) -> None:
    before = _count(tx)
    body = {**_body(edits, name="坏"), **change}
    answer = planner.post("/api/coverage/scenarios", json={k: v for k, v in body.items()
                                                           if v is not None})
    assert answer.status_code == 400, change
    assert answer.get_json()["error"]["message"]
    assert _count(tx) == before


def test_scope_owner_area_and_other_district(
        planner: FlaskClient, client_as: Callable[..., FlaskClient],
        edits: dict[str, Any]) -> None:
    scenario_id = _save(planner, edits, "甲方案")
    colleague = client_as("planner", area=DISTRICT)
    city = client_as("planner")
    outsider = client_as("planner", area=OTHER_DISTRICT)
    staff = client_as("district_centre", area=DISTRICT)
    for client, sees in ((planner, True), (colleague, True), (city, True), (outsider, False)):
        listed = [s["id"] for s in client.get("/api/coverage/scenarios").get_json()["scenarios"]]
        assert (scenario_id in listed) == sees
        for url in (f"/api/coverage/scenarios/{scenario_id}",
                    f"/api/coverage/scenarios/{scenario_id}.csv",
                    f"/api/coverage/scenarios/{scenario_id}.geojson",
                    f"/coverage/scenarios/{scenario_id}"):
            assert client.get(url).status_code == (200 if sees else 404), url
    assert staff.get("/api/coverage/scenarios").status_code == 403  # planners only
    # A city-wide scenario holds other districts: a district planner does not see it.
    city_id = _save(city, {**edits, "level": "district"}, "全市方案")
    assert planner.get(f"/api/coverage/scenarios/{city_id}").status_code == 404
    assert city.get(f"/api/coverage/scenarios/{city_id}").get_json()["area_code"] is None
    # Only the owner deletes.
    assert colleague.delete(f"/api/coverage/scenarios/{scenario_id}").status_code == 403
    assert outsider.delete(f"/api/coverage/scenarios/{scenario_id}").status_code == 404
    assert planner.delete(f"/api/coverage/scenarios/{scenario_id}").status_code == 200
    assert planner.get(f"/api/coverage/scenarios/{scenario_id}").status_code == 404


def test_compare_side_by_side(planner: FlaskClient, client_as: Callable[..., FlaskClient],
                              edits: dict[str, Any]) -> None:
    first = _save(planner, edits, "只开新点", remove=[])
    second = _save(planner, edits, "开新点并关旧点")
    answer = planner.get(f"/api/coverage/scenarios/compare?ids={second},{first}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert [s["id"] for s in body["scenarios"]] == [second, first] and body["same_rule"]
    assert body["areas"]
    for row in body["areas"]:
        assert len(row["values"]) == 2 and row["name"]
        assert any(v["elderly_covered_after"] != v["elderly_covered_before"]
                   or v["residents_covered_after"] != v["residents_covered_before"]
                   for v in row["values"])
    page = planner.get(f"/coverage/scenarios/compare?ids={first},{second}")
    assert page.status_code == 200 and "只开新点" in page.text and "开新点并关旧点" in page.text
    for ids in (f"{first}", f"{first},{first}", f"{first},{second},1,2", "a,b", ""):
        bad = planner.get(f"/api/coverage/scenarios/compare?ids={ids}")
        assert bad.status_code == 400, ids
    assert planner.get(f"/api/coverage/scenarios/compare?ids={first},{2**40}").status_code == 404
    outsider = client_as("planner", area=OTHER_DISTRICT)
    assert outsider.get(f"/api/coverage/scenarios/compare?ids={first},{second}"
                        ).status_code == 404


def test_csv_and_geojson_exports_hold_the_stored_result(planner: FlaskClient,
                                                        edits: dict[str, Any]) -> None:
    scenario_id = _save(planner, edits, "导出")
    s = planner.get(f"/api/coverage/scenarios/{scenario_id}").get_json()
    answer = planner.get(f"/api/coverage/scenarios/{scenario_id}.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    total = next(r for r in rows if r["kind"] == "total")
    assert {k: int(total[k]) for k in s["result"]["totals"]} == s["result"]["totals"]
    areas = {r["code"]: r for r in rows if r["kind"] == "area"}
    assert set(areas) == {a["code"] for a in s["result"]["areas"]}
    for a in s["result"]["areas"]:
        row = areas[a["code"]]
        assert row["name"] == a["name"]
        assert int(row["elderly_covered_after"]) == a["elderly_covered_after"]
        assert int(row["elderly_change"]) == a["elderly_covered_after"] - a[
            "elderly_covered_before"]
    added = [r for r in rows if r["kind"] == "added"]
    assert [[float(r["lon"]), float(r["lat"])] for r in added] == s["add"]
    removed = [r for r in rows if r["kind"] == "removed"]
    assert [r["code"] for r in removed] == [edits["facility"]["code"]]

    answer = planner.get(f"/api/coverage/scenarios/{scenario_id}.geojson")
    assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
    collection = json.loads(answer.data)
    assert collection["type"] == "FeatureCollection"
    assert collection["scenario"]["totals"] == s["result"]["totals"]
    features = collection["features"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in features:
        by_kind.setdefault(f["properties"]["kind"], []).append(f)
    assert len(by_kind["area"]) == len(s["result"]["areas"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in by_kind["area"])
    assert [f["geometry"]["coordinates"] for f in by_kind["added"]] == s["add"]
    assert [f["properties"]["code"] for f in by_kind["removed"]] == [edits["facility"]["code"]]


def test_pages_list_and_scenario(planner: FlaskClient, edits: dict[str, Any]) -> None:
    scenario_id = _save(planner, edits, "页面方案", note="给街道看")
    listing = planner.get("/coverage/scenarios")
    assert listing.status_code == 200 and "页面方案" in listing.text
    page = planner.get(f"/coverage/scenarios/{scenario_id}")
    assert page.status_code == 200 and "给街道看" in page.text
    assert f"/api/coverage/scenarios/{scenario_id}.csv" in page.text
