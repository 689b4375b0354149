"""Per-building counts of vulnerable residents for the staff whose territory holds the building.

The public (and planners, who plan from grid totals) keep the public view tested in
test_public_counts.py. Case roles, data officers and administrators get each building's count
of people aged 80+ and of elderly living alone where their territory covers it, decided in SQL
row by row, and exact grid totals there; elsewhere they see what the public sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

VULNERABLE = ("aged_80_plus", "elderly_living_alone")


def _features(client: FlaskClient, url: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return response, {f["properties"]["code"]: f["properties"]
                      for f in json.loads(response.data)["features"]}


def _truth(tx: Connection, community: str) -> dict[str, dict[str, Any]]:
    rows = tx.execute(text(
        "SELECT b.code, b.grid_code, b.aged_80_plus, b.elderly_living_alone FROM building b "
        "JOIN grid g ON g.code = b.grid_code WHERE g.community_code = :c"), {"c": community})
    return {r.code: dict(r._mapping) for r in rows}


def _worker(tx: Connection, grid: str) -> int:
    return int(tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g "
                               "AND role = 'grid_worker'"), {"g": grid}).scalar_one())


def test_a_grid_worker_sees_the_counts_of_their_own_grids_buildings_only(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]],
        grids: list[dict[str, Any]]) -> None:
    grid, community = grids[0]["code"], grids[0]["community_code"]
    headers = login("grid_worker", person_id=_worker(tx, grid))
    response, shown = _features(api, f"/api/layers/buildings.geojson?community={community}",
                                headers)
    assert response.headers["Cache-Control"] == "private, no-cache"
    truth = _truth(tx, community)
    assert set(shown) == set(truth)
    mine = [c for c, b in truth.items() if b["grid_code"] == grid]
    assert mine and len(mine) < len(truth)  # the community has buildings of other grids too
    for code, building in truth.items():
        for key in VULNERABLE:
            expected = building[key] if building["grid_code"] == grid else None
            assert shown[code][key] == expected, (code, key)


def test_grid_totals_are_exact_in_ones_own_grids(api: FlaskClient, tx: Connection,
                                                 login: Callable[..., dict[str, str]]) -> None:
    community = tx.execute(text(
        "SELECT g.community_code FROM grid g JOIN building b ON b.grid_code = g.code "
        "GROUP BY g.code HAVING sum(b.elderly_living_alone) < 5 ORDER BY g.code LIMIT 1"),
    ).scalar_one()
    staff = login("community_staff", area=community)
    _, public = _features(api, f"/api/layers/grids.geojson?subdistrict={community[:9]}")
    _, scoped = _features(api, f"/api/layers/grids.geojson?subdistrict={community[:9]}", staff)
    totals = {r.code: r for r in tx.execute(text(
        "SELECT grid_code AS code, sum(aged_80_plus) AS a, sum(elderly_living_alone) AS e "
        "FROM building WHERE grid_code LIKE :p GROUP BY grid_code"), {"p": community[:9] + "%"})}
    hidden_in_ours = 0
    for code, props in scoped.items():
        row = totals.get(code)
        exact = (int(row.a), int(row.e)) if row else (0, 0)
        if code.startswith(community):
            assert (props["aged_80_plus"], props["elderly_living_alone"]) == exact
            hidden_in_ours += public[code]["elderly_living_alone"] is None
        else:
            assert {k: props[k] for k in VULNERABLE} == {k: public[code][k] for k in VULNERABLE}
    assert hidden_in_ours, "a small total the public does not see is shown to the community"


@pytest.mark.parametrize("role, options, covered", [
    ("department_staff", {"department": "housing"}, "enrolled grids"),
    ("community_staff", {"area": "COMMUNITY"}, "community"),
    ("data_officer", {"area": "210103"}, "all"),
    ("admin", {}, "all"),
    ("data_officer", {"area": "210104"}, "none"),
    ("planner", {"area": "210103"}, "public"),
    ("planner", {}, "public"),
])
def test_who_sees_which_buildings_counts(api: FlaskClient, tx: Connection,
                                         login: Callable[..., dict[str, str]],
                                         grids: list[dict[str, Any]], role: str,
                                         options: dict[str, str], covered: str) -> None:
    grid, community = grids[0]["code"], grids[0]["community_code"]
    if role == "department_staff":
        options = {**options, "person_id": int(tx.execute(text(
            "SELECT person_id FROM grid_enrollment WHERE grid_code = :g "
            "AND department_code = 'housing'"), {"g": grid}).scalar_one())}
    options = {k: community if v == "COMMUNITY" else v for k, v in options.items()}
    response, shown = _features(api, f"/api/layers/buildings.geojson?subdistrict={community[:9]}",
                                login(role, **options))
    truth = _truth(tx, community)
    if covered == "public":
        assert all(not set(VULNERABLE) & set(p) for p in shown.values())
        assert response.headers["Cache-Control"] == "public, no-cache"
        return
    enrolled = set(tx.execute(text(
        "SELECT grid_code FROM grid_enrollment WHERE person_id = :p AND department_code = "
        "'housing'"), {"p": options.get("person_id", -1)}).scalars())
    seen = 0
    for code, props in shown.items():
        inside = {"enrolled grids": props["grid_code"] in enrolled,
                  "community": props["grid_code"].startswith(community),
                  "all": True, "none": False}[covered]
        if inside:
            seen += 1
            if code in truth:
                assert props["aged_80_plus"] == truth[code]["aged_80_plus"]
        else:
            assert props["aged_80_plus"] is None and props["elderly_living_alone"] is None
    assert (seen > 0) == (covered != "none")


def test_locate_adds_the_counts_of_the_nearest_building_for_its_staff(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]],
        grids: list[dict[str, Any]]) -> None:
    here, there = grids[0], grids[1]
    worker = login("grid_worker", person_id=_worker(tx, here["code"]))
    url = f"/api/locate?lon={here['lon']}&lat={here['lat']}"
    public = api.get(url).get_json()
    mine = api.get(url, headers=worker)
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "private, no-store"
    building = mine.get_json()["building"]
    truth = tx.execute(text("SELECT aged_80_plus, elderly_living_alone FROM building "
                            "WHERE code = :c"), {"c": building["code"]}).one()
    assert (building["aged_80_plus"], building["elderly_living_alone"]) == tuple(truth)
    assert not set(VULNERABLE) & set(public["building"])
    assert {k: v for k, v in building.items() if k not in VULNERABLE} == public["building"]
    elsewhere = api.get(f"/api/locate?lon={there['lon']}&lat={there['lat']}", headers=worker)
    assert not set(VULNERABLE) & set(elsewhere.get_json()["building"])
    planner = api.get(url, headers=login("planner")).get_json()
    assert not set(VULNERABLE) & set(planner["building"])
    outside = api.get("/api/locate?lon=100&lat=30", headers=worker)
    assert outside.status_code == 404
