"""Coverage planning API: siting, what-if (stores nothing) and the GB 50180 audit exports.

One run (elder-care stations, 15-minute circle) is computed and committed for the module, since
the app reads through its own connections; it is deleted again afterwards.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pytest
from sqlalchemy import Engine, text

from gridmap.coverage.services import what_if as whatif
from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

TYPE, CIRCLE = "elder_care_station", "15min"
BASE = {"type": TYPE, "circle": CIRCLE}


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[int]:
    """A committed run of the type and circle; yields its id."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    yield report.run_id
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


@pytest.fixture(scope="module")
def community(engine: Engine, run: int) -> str:
    """The community with the most uncovered elderly in the run."""
    with engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT code FROM coverage_area WHERE run_id = :r AND level = 'community' "
            "ORDER BY elderly - elderly_covered DESC, code LIMIT 1"), {"r": run}).scalar_one())


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM coverage_run")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM coverage_building")).scalar_one())


def test_siting_shape(planner: Any, community: str) -> None:
    response = planner.post("/api/coverage/siting", json={**BASE, "area": community, "k": 3})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["area_code"] == community and body["max_distance_m"] > 0
    assert 1 <= len(body["sites"]) <= 3 and body["candidates"] > 0
    assert body["elderly_uncovered"] == body["elderly"] - body["elderly_covered"]
    gains = [s["elderly_gain"] for s in body["sites"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    cumulative = [s["elderly_cumulative"] for s in body["sites"]]
    assert cumulative[-1] == sum(gains) <= body["elderly_uncovered"]
    site = body["sites"][0]
    assert 120 < site["lon"] < 126 and 40 < site["lat"] < 44
    assert set(body["seconds"]) == {"load", "site"}
    # Each site says where it is: its community (inside the sited one) and the nearest street.
    for each in body["sites"]:
        assert each["community_code"] == community and each["community"]
        assert each["street"] and 0 <= each["street_m"] < 1000


@pytest.mark.parametrize("change, status", [
    ({"type": "nope"}, 400), ({"circle": "7min"}, 400), ({"k": 0}, 400), ({"k": 31}, 400),
    ({"k": "many"}, 400), ({"area": "12ab"}, 400), ({"area": "2101"}, 400),
    ({"area": "210103999"}, 404), ({"max_candidates": 1}, 400),
    ({"area": "210199"}, 403)])  # another district than the planner's
def test_siting_bad_input(planner: Any, community: str, change: dict[str, Any],
                          status: int) -> None:
    body = {**BASE, "area": community, "k": 2, **change}
    response = planner.post("/api/coverage/siting", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


def test_siting_needs_a_json_object(planner: Any) -> None:
    for data in ("[1, 2]", "not json"):
        response = planner.post("/api/coverage/siting", data=data,
                               content_type="application/json")
        assert response.status_code == 400


@pytest.mark.parametrize("change", [
    {"add": [[123.4, 41.8]] * 51}, {"add": [[123.4]]}, {"add": [[200.0, 41.8]]},
    {"add": "123,41"}, {"add": [[True, 41.8]]}, {"remove": list(range(201))},
    {"remove": [999_999_999]}, {"remove": ["NO-SUCH-CODE"]}, {"remove": [1.5]},
    {"level": "street"}, {"type": "nope"}])
def test_what_if_bad_input(planner: Any, run: int, change: dict[str, Any]) -> None:
    response = planner.post("/api/coverage/what-if", json={**BASE, "level": "community", **change})
    assert response.status_code == 400, change
    assert response.get_json()["error"]["message"]


def test_siting_gain_confirmed_by_what_if_and_nothing_stored(
        planner: Any, engine: Engine, community: str) -> None:
    site = planner.post("/api/coverage/siting",
                       json={**BASE, "area": community, "k": 1}).get_json()["sites"][0]
    before = _counts(engine)
    response = planner.post("/api/coverage/what-if", json={
        **BASE, "level": "community", "add": [[site["lon"], site["lat"]]]})
    assert response.status_code == 200
    body = response.get_json()
    assert _counts(engine) == before  # nothing stored
    rows = {a["code"]: a for a in body["areas"]}
    row = rows[community]
    assert row["elderly_covered_after"] - row["elderly_covered_before"] == site["elderly_gain"]
    assert all(a["elderly_covered_after"] >= a["elderly_covered_before"] for a in body["areas"])
    totals = body["totals"]
    assert totals["elderly_covered_after"] - totals["elderly_covered_before"] >= site["elderly_gain"]
    assert body["buildings_gained"] > 0 and body["buildings_lost"] == 0
    assert body["changed_buildings"] == body["buildings_gained"]
    # The answer names the changed areas and carries the changed buildings' footprints.
    assert row["name"] and row["name"].endswith("社区")
    drawn = body["buildings"]
    assert drawn["type"] == "FeatureCollection" and not drawn["truncated"]
    assert drawn["numberReturned"] == len(drawn["features"]) == body["buildings_gained"]
    assert {f["properties"]["change"] for f in drawn["features"]} == {"gained"}
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in drawn["features"])


def test_what_if_remove_by_id_and_code(planner: Any, engine: Engine, run: int) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, code FROM facility WHERE type = :t ORDER BY id "
                                 "LIMIT 200"), {"t": TYPE}).all()
    before = _counts(engine)
    one = {**BASE, "level": "district"}
    by_id = planner.post("/api/coverage/what-if", json={**one, "remove": [rows[0][0]]}).get_json()
    by_code = planner.post("/api/coverage/what-if", json={**one, "remove": [rows[0][1]]}).get_json()
    assert by_id == by_code and by_id["buildings_gained"] == 0
    all_gone = planner.post("/api/coverage/what-if",
                           json={**one, "remove": [r[0] for r in rows]}).get_json()
    assert _counts(engine) == before
    assert all_gone["buildings_lost"] > 0 and all_gone["buildings_gained"] == 0
    lost = all_gone["buildings"]
    assert lost["numberMatched"] == all_gone["buildings_lost"]
    assert len(lost["features"]) == min(all_gone["buildings_lost"], whatif.MAX_DRAWN)
    assert {f["properties"]["change"] for f in lost["features"]} == {"lost"}
    assert all(a["name"] for a in all_gone["areas"])
    t = all_gone["totals"]
    assert t["elderly_covered_after"] < t["elderly_covered_before"] <= t["elderly"]
    empty = planner.post("/api/coverage/what-if", json=one).get_json()
    assert empty["areas"] == [] and empty["changed_buildings"] == 0
    assert empty["buildings"]["features"] == []


def test_audit_json(planner: Any, run: int) -> None:
    body = planner.get("/api/coverage/audit?level=community").get_json()
    rows = body["rows"]
    assert rows and {r["status"] for r in rows} <= {"covered", "gap", "no_residents",
                                                  "not_computed"}
    ours = [r for r in rows if (r["facility_type"], r["circle"]) == (TYPE, CIRCLE)]
    assert ours and all(r["run_id"] == run for r in ours)
    assert all(len(r["code"]) == 12 for r in rows)
    # The required pairs without a run, each with the command that computes it.
    assert (TYPE, CIRCLE) not in {(m["facility_type"], m["circle"]) for m in body["missing"]}
    assert all(m["command"] == f"gridmap coverage compute --type {m['facility_type']} "
               f"--circle {m['circle']}" for m in body["missing"])
    prefix = rows[0]["code"][:9]
    some = planner.get(f"/api/coverage/audit?level=grid&area={prefix}").get_json()["rows"]
    assert some and all(r["code"].startswith(prefix) and len(r["code"]) == 15 for r in some)


def test_audit_csv_and_geojson(planner: Any, run: int) -> None:
    response = planner.get("/api/coverage/audit.csv?level=community&min_share=0.5")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows and {"code", "facility_type", "circle", "status", "residents_share"} <= set(rows[0])
    for row in rows:
        if row["status"] in ("covered", "gap") and row["facility_type"] == TYPE:
            assert (float(row["residents_share"]) >= 0.5) == (row["status"] == "covered")
    geo = planner.get("/api/coverage/audit.geojson?level=community")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    frame = gpd.read_file(io.BytesIO(geo.data))
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert len(frame) == len(rows)
    assert frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()


@pytest.mark.parametrize("query", ["level=district", "area=21ab", "min_share=0",
                                   "min_share=1.5", "min_share=x"])
def test_audit_bad_input(planner: Any, query: str) -> None:
    for path in ("audit", "audit.csv", "audit.geojson"):
        response = planner.get(f"/api/coverage/{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert response.get_json()["error"]["message"]


def test_audit_page(planner: Any, run: int) -> None:
    response = planner.get("/coverage/audit")
    assert response.status_code == 200
    html = response.data.decode()
    assert "GB 50180" in html and "coverage-audit.js" in html
    english = planner.get("/coverage/audit?lang=en").data.decode()
    assert "GB 50180 audit" in english


def test_siting_takes_the_planners_candidate_layer(planner: Any) -> None:
    """Only the uploaded points can be chosen: every site returned is one of them."""
    lon, lat = 123.445, 41.790
    layer = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"候选{i}"},
         "geometry": {"type": "Point", "coordinates": [lon + i * 0.004, lat + (i % 3) * 0.003]}}
        for i in range(6)]}
    response = planner.post("/api/coverage/siting", json={
        "type": "elder_care_station", "circle": "15min", "area": "210103", "k": 3,
        "candidates": layer})
    assert response.status_code == 200, response.get_json()
    allowed = {(round(f["geometry"]["coordinates"][0], 5), round(f["geometry"]["coordinates"][1], 5))
               for f in layer["features"]}
    for site in response.get_json()["sites"]:
        assert (round(site["lon"], 5), round(site["lat"], 5)) in allowed


@pytest.mark.parametrize("candidates", [
    {"type": "FeatureCollection", "features": []},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "LineString", "coordinates": [[123.4, 41.8], [123.5, 41.8]]}}]},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Point", "coordinates": [500, 41.8]}}]},
    [[123.4, 41.8]],
])
def test_bad_candidate_layers_are_400(planner: Any, candidates: Any) -> None:
    response = planner.post("/api/coverage/siting", json={
        "type": "elder_care_station", "circle": "15min", "area": "210103", "k": 3,
        "candidates": candidates})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_what_if_refuses_edits_too_far_apart(planner: Any, engine: Engine, run: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from gridmap.coverage.services import what_if

    with engine.connect() as conn:
        west, east = conn.execute(text(
            "SELECT (array_agg(id ORDER BY ST_X(geom)))[1], (array_agg(id ORDER BY ST_X(geom) "
            "DESC))[1] FROM facility WHERE type = :t"), {"t": TYPE}).one()
        edges = conn.execute(text("SELECT count(*) FROM street_edge")).scalar_one()
    monkeypatch.setattr(what_if, "MAX_NEIGHBOURHOOD_ROWS", edges // 2)
    one = planner.post("/api/coverage/what-if", json={**BASE, "remove": [west]})
    assert one.status_code == 200
    both = planner.post("/api/coverage/what-if", json={**BASE, "remove": [west, east]})
    assert both.status_code == 400
    message = both.get_json()["error"]["message"]
    assert "相距太远" in message and "too far apart" in message
