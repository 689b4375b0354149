"""Coverage results as OGC collections: for coverage readers only, inside the district they
read; buildings carry distance and band, areas their rates. One run is computed and committed
for the module (the app reads through its own connections) and deleted afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from ogc_support import all_ids, page
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

TYPE, CIRCLE = "elder_care_station", "15min"
BUILDINGS = f"coverage-{TYPE}-{CIRCLE}-buildings"
AREAS = f"coverage-{TYPE}-{CIRCLE}-areas"


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[dict[str, Any]]:
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    yield {"id": report.run_id}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


def test_only_coverage_readers_see_them(api: FlaskClient, run: dict[str, Any],
                                        login: Callable[..., dict[str, str]]) -> None:
    ids = [c["id"] for c in api.get("/ogc/collections").get_json()["collections"]]
    assert BUILDINGS not in ids
    assert api.get(f"/ogc/collections/{BUILDINGS}/items").status_code == 401
    worker = login("grid_worker")
    assert api.get(f"/ogc/collections/{BUILDINGS}/items", headers=worker).status_code == 403
    planner = login("planner", area="210103")
    listed = [c["id"] for c in api.get("/ogc/collections", headers=planner).get_json()["collections"]]
    assert BUILDINGS in listed and AREAS in listed


def test_buildings_with_distance_and_band(api: FlaskClient, run: dict[str, Any], engine: Engine,
                                          login: Callable[..., dict[str, str]]) -> None:
    planner = login("planner", area="210103")
    with engine.connect() as conn:
        expected = dict(conn.execute(text(
            "SELECT b.code, CASE WHEN cb.distance_m <= r.max_distance_m THEN 'covered' "
            "WHEN cb.distance_m <= r.max_distance_m * 1.5 THEN 'near_miss' ELSE 'far' END "
            "FROM coverage_building cb JOIN building b ON b.id = cb.building_id "
            "JOIN coverage_run r ON r.id = cb.run_id WHERE cb.run_id = :r AND b.grid_code LIKE "
            "'210103%' AND cb.distance_m > 900 ORDER BY b.code"), {"r": run["id"]}).all())
    found = page(api, f"/ogc/collections/{BUILDINGS}/items", planner, limit=10000,
                 filter="distance_m > 900")
    assert {f["id"]: f["properties"]["band"] for f in found["features"]} == expected
    other = login("planner", area="210104")  # 大东区: nothing of 沈河区's
    assert all_ids(api, BUILDINGS, other, limit=100) == []


def test_areas_with_rates(api: FlaskClient, run: dict[str, Any], engine: Engine,
                          login: Callable[..., dict[str, str]]) -> None:
    planner = login("planner", area="210103")
    with engine.connect() as conn:
        expected = list(conn.execute(text(
            "SELECT code FROM coverage_area WHERE run_id = :r AND level = 'community' "
            "ORDER BY code"), {"r": run["id"]}).scalars())
    assert all_ids(api, AREAS, planner, limit=50, filter="level = 'community'") == expected
    one = page(api, f"/ogc/collections/{AREAS}/items", planner, limit=1, filter="level = 'district'")
    props = one["features"][0]["properties"]
    assert 0 <= props["elderly_rate"] <= 1 and props["level"] == "district"
    assert one["features"][0]["geometry"]["type"] == "MultiPolygon"
