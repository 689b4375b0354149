"""Coverage API: runs, buildings, areas, distances, catchments and exports of a stored run.

One run (elder-care stations, 15-minute circle) is computed and committed for the module, since
the app reads through its own connections; it is deleted again afterwards.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pytest
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

TYPE, CIRCLE = "elder_care_station", "15min"
Q = f"type={TYPE}&circle={CIRCLE}"


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[dict[str, Any]]:
    """A committed run; yields its id and walking limit."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    with engine.connect() as conn:
        limit = conn.execute(text("SELECT max_distance_m FROM coverage_run WHERE id = :r"),
                             {"r": report.run_id}).scalar_one()
    yield {"id": report.run_id, "d": float(limit), "report": report}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


def _facility_point(engine: Engine) -> tuple[float, float]:
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM facility WHERE type = :t ORDER BY id LIMIT 1"),
            {"t": TYPE}).one()
    return float(lon), float(lat)


def _collection(body: bytes) -> gpd.GeoDataFrame:
    frame = gpd.read_file(io.BytesIO(body))
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    return frame


def test_runs_lists_the_current_run(planner: Any, run: dict[str, Any]) -> None:
    body = planner.get("/api/coverage/runs").get_json()
    found = [r for r in body["runs"] if r["run_id"] == run["id"]]
    assert len(found) == 1
    r = found[0]
    assert r["facility_type"] == TYPE and r["circle"] == CIRCLE
    assert r["facility_type_name"] and r["circle_name"]
    assert r["max_distance_m"] == run["d"] and r["seconds"] >= 0 and r["computed_at"]
    assert r["metric_srid"] == 4550 and r["metric_crs"] == "EPSG:4550"  # Shenyang's own zone
    assert r["buildings"] == run["report"].buildings > 0
    assert r["residents_rate"] == pytest.approx(r["residents_covered"] / r["residents"])
    assert r["elderly_uncovered"] == r["elderly"] - r["elderly_covered"]


def test_buildings_bands_follow_distance_and_rule(planner: Any, run: dict[str, Any],
                                                  engine: Engine) -> None:
    lon, lat = _facility_point(engine)
    bbox = f"{lon - 0.012},{lat - 0.01},{lon + 0.012},{lat + 0.01}"
    response = planner.get(f"/api/coverage/buildings.geojson?{Q}&bbox={bbox}&zoom=16")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    frame = _collection(response.data)
    assert len(frame) > 0
    d = run["d"]
    for _, row in frame.iterrows():
        dist = row["distance_m"]
        if dist is None or dist != dist:
            assert row["band"] == "far" and row["facility"] is None
        elif dist <= d:
            assert row["band"] == "covered" and row["facility"]
        else:
            assert dist <= 1.5 * d + 0.1 and row["band"] == "near_miss"
    assert "covered" in set(frame["band"])


def test_buildings_capped(planner: Any, run: dict[str, Any], app: Any) -> None:
    cap = app.extensions["gridmap.settings"].layer_feature_limit
    body = json.loads(planner.get(f"/api/coverage/buildings.geojson?{Q}&zoom=12").data)
    assert body["numberReturned"] <= cap
    if run["report"].buildings > cap:
        assert body["truncated"] is True


def test_areas_rates_and_worst_first(planner: Any, run: dict[str, Any]) -> None:
    body = planner.get(f"/api/coverage/areas?{Q}&level=community").get_json()
    rows = body["areas"]
    assert len(rows) > 10
    for row in rows:
        assert row["name"] and len(row["code"]) == 12 and len(row["bbox"]) == 4
        if row["residents"]:
            assert row["residents_rate"] == pytest.approx(row["residents_covered"] / row["residents"])
        if row["elderly"]:
            assert row["elderly_rate"] == pytest.approx(row["elderly_covered"] / row["elderly"])
        assert row["elderly_uncovered"] == row["elderly"] - row["elderly_covered"]
    rated = [r for r in rows if r["elderly_rate"] is not None]
    keys = [(r["elderly_rate"], -r["elderly_uncovered"]) for r in rated]
    assert keys == sorted(keys)
    assert rows[: len(rated)] == rated  # areas without elderly come last
    parent = rows[0]["code"]
    grids = planner.get(f"/api/coverage/areas?{Q}&level=grid&parent={parent}").get_json()["areas"]
    assert grids and all(g["code"].startswith(parent) for g in grids)
    assert sum(g["elderly"] for g in grids) == rows[0]["elderly"]


def test_areas_geojson(planner: Any, run: dict[str, Any]) -> None:
    frame = _collection(planner.get(f"/api/coverage/areas.geojson?{Q}&level=community&zoom=13").data)
    assert len(frame) > 10 and {"elderly_rate", "name", "code"} <= set(frame.columns)
    assert frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_distances_histogram(planner: Any, run: dict[str, Any]) -> None:
    body = planner.get(f"/api/coverage/distances?{Q}").get_json()
    bins = body["bins"]
    assert len(bins) == 20 and bins[0]["from_m"] == 0 and bins[1]["from_m"] == 100
    assert bins[-1]["to_m"] is None
    total = sum(b["buildings"] for b in bins) + body["unreached"]["buildings"]
    assert total == run["report"].buildings
    covered = sum(b["buildings"] for b in bins if b["to_m"] is not None and b["to_m"] <= run["d"])
    assert covered <= run["report"].buildings_covered


def test_catchments(planner: Any, run: dict[str, Any], engine: Engine) -> None:
    lon, lat = _facility_point(engine)
    bbox = f"{lon - 0.01},{lat - 0.008},{lon + 0.01},{lat + 0.008}"
    response = planner.get(f"/api/coverage/catchments.geojson?{Q}&bbox={bbox}")
    assert response.status_code == 200
    frame = _collection(response.data)
    assert len(frame) > 0
    assert frame.geometry.geom_type.isin(["LineString", "MultiLineString"]).all()
    minx, miny, maxx, maxy = frame.total_bounds
    assert minx >= lon - 0.0101 and maxx <= lon + 0.0101
    too_big = f"{lon - 0.1},{lat - 0.1},{lon + 0.1},{lat + 0.1}"
    assert planner.get(f"/api/coverage/catchments.geojson?{Q}&bbox={too_big}").status_code == 400


def test_building_csv(planner: Any, run: dict[str, Any]) -> None:
    response = planner.get(f"/api/coverage/buildings.csv?{Q}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == run["report"].buildings
    assert {r["band"] for r in rows} <= {"covered", "near_miss", "far"}
    assert sum(r["band"] == "covered" for r in rows) == run["report"].buildings_covered


def test_area_csv_and_full_geojson(planner: Any, run: dict[str, Any]) -> None:
    response = planner.get(f"/api/coverage/areas.csv?{Q}&level=subdistrict")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 11 and all(r["name"] for r in rows)
    full = _collection(planner.get(f"/api/coverage/buildings.geojson?{Q}").data)
    assert len(full) == run["report"].buildings


@pytest.mark.parametrize("query", [
    "type=nope&circle=15min", "type=elder_care_station&circle=7min",
    f"{Q}&level=street", f"{Q}&parent=12ab", f"{Q}&bbox=1,2,3"])
def test_bad_parameters_are_400(planner: Any, run: dict[str, Any], query: str) -> None:
    for path in ("areas.geojson",) if "bbox" in query else ("areas.geojson", "areas"):
        response = planner.get(f"/api/coverage/{path}?{query}")
        assert response.status_code == 400, path
    assert response.get_json()["error"]["message"]


def test_no_run_is_404_naming_the_command(planner: Any, run: dict[str, Any]) -> None:
    for path in ("areas", "distances", "buildings.geojson", "buildings.csv"):
        response = planner.get(f"/api/coverage/{path}?type=pocket_park&circle=5min")
        assert response.status_code == 404
        message = response.get_json()["error"]["message"]
        assert "gridmap coverage compute --type pocket_park --circle 5min" in message
