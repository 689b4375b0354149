"""Splitting a grid along a drawn line and merging neighbours, through the API: the tiling stays
whole, codes are issued by the rule and never reused, buildings follow, the history keeps every
boundary, and cases keep the grid they were filed in while the surviving grid's people work them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import shapely
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

Headers = dict[str, str]


def _geojson(shape: shapely.Geometry) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(shapely.to_geojson(shape))
    return parsed


def _shape(tx: Connection, code: str) -> shapely.Geometry:
    return shapely.from_wkt(tx.execute(text("SELECT ST_AsText(geom) FROM grid WHERE code = :c"),
                                       {"c": code}).scalar_one())


def _area_m2(tx: Connection, codes: list[str]) -> float:
    return float(tx.execute(text("SELECT sum(ST_Area(geom::geography)) FROM grid "
                                 "WHERE code = ANY(:c)"), {"c": codes}).scalar_one())


def _next_code(tx: Connection, community: str) -> str:
    """The rule, stated independently: one past the highest sequence the community ever used."""
    top = tx.execute(text("""
        SELECT max(right(code, 3)::int) FROM (
          SELECT code FROM grid WHERE community_code = :c
          UNION SELECT code FROM grid_history WHERE left(code, 12) = :c) used"""),
        {"c": community}).scalar_one()
    return f"{community}{top + 1:03d}"


def _misplaced_buildings(tx: Connection, community: str) -> int:
    count: int = tx.execute(text("""
        SELECT count(*) FROM building b JOIN grid g ON g.code = b.grid_code
        WHERE left(b.grid_code, 12) = :c
          AND NOT ST_Contains(g.geom, ST_PointOnSurface(b.geom))
          AND EXISTS (SELECT 1 FROM grid o WHERE o.community_code = :c
                      AND ST_Contains(o.geom, ST_PointOnSurface(b.geom)))"""),
        {"c": community}).scalar_one()
    return count


def _fingerprint(tx: Connection) -> tuple[Any, ...]:
    return tuple(tx.execute(text("""
        SELECT (SELECT md5(string_agg(code || ST_AsText(geom), ',' ORDER BY code)) FROM grid),
               (SELECT count(*) FROM grid_history), (SELECT count(*) FROM data_change),
               (SELECT md5(string_agg(code || grid_code, ',' ORDER BY code)) FROM building),
               (SELECT count(*) FROM grid_enrollment)""")).one())


def _grid_with_buildings(tx: Connection) -> tuple[str, shapely.Geometry]:
    code = tx.execute(text("""
        SELECT g.code FROM grid g JOIN building b ON b.grid_code = g.code
        WHERE EXISTS (SELECT 1 FROM grid_enrollment e WHERE e.grid_code = g.code)
        GROUP BY g.code HAVING count(*) >= 6 ORDER BY g.code LIMIT 1""")).scalar_one()
    return code, _shape(tx, code)


def _across(shape: shapely.Geometry) -> shapely.LineString:
    """A north-south line through the middle of ``shape``, beyond its edges."""
    minx, miny, maxx, maxy = shape.bounds
    middle = (minx + maxx) / 2
    return shapely.LineString([(middle, miny - 0.001), (middle, maxy + 0.001)])


def test_a_split_issues_the_next_code_and_keeps_the_tiling(
        api: FlaskClient, tx: Connection, login: Callable[..., Headers]) -> None:
    code, before = _grid_with_buildings(tx)
    community = code[:12]
    expected = _next_code(tx, community)
    area = _area_m2(tx, [code])
    departments = set(tx.execute(text("SELECT department_code FROM grid_enrollment "
                                      "WHERE grid_code = :c"), {"c": code}).scalars())
    officer = login("data_officer", area=code[:6])
    answer = api.post(f"/api/edits/grids/{code}/split", headers=officer,
                      json={"line": _geojson(_across(before)), "names": ["东片"]})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert [g["code"] for g in body["new_grids"]][:1] == [expected]
    assert body["new_grids"][0]["name"] == "东片"
    codes = [code, *(g["code"] for g in body["new_grids"])]
    parts = [_shape(tx, c) for c in codes]
    # The parts tile the old grid: the same area (on the ellipsoid, where the cut is a geodesic:
    # a few millionths apart), no overlap, and their union is the old grid.
    assert _area_m2(tx, codes) == pytest.approx(area, rel=1e-5)
    assert shapely.union_all(parts).symmetric_difference(before).area < before.area * 1e-9
    assert _area_m2(tx, [code]) >= max(_area_m2(tx, [c]) for c in codes[1:])  # largest keeps it
    history = tx.execute(text("SELECT reason, ST_AsText(geom) FROM grid_history WHERE code = :c"),
                         {"c": code}).one()
    assert history[0] == "split" and shapely.from_wkt(history[1]).equals_exact(before, 1e-9)
    for new in codes[1:]:
        assert set(tx.execute(text("SELECT department_code FROM grid_enrollment "
                                   "WHERE grid_code = :c"), {"c": new}).scalars()) == departments
        assert tx.execute(text("SELECT count(*) FROM grid_member WHERE grid_code = :c"),
                          {"c": new}).scalar_one() == 0
    assert _misplaced_buildings(tx, community) == 0
    assert tx.execute(text("SELECT count(*) FROM building WHERE grid_code = ANY(:c)"),
                      {"c": codes[1:]}).scalar_one() > 0
    ops = tx.execute(text("SELECT code, op FROM data_change WHERE layer = 'grids' "
                          "ORDER BY id")).all()
    assert [tuple(r) for r in ops] == [(code, "split"), *((c, "add") for c in codes[1:])]
    listed = api.get("/api/edits/grids/changes", headers=officer).get_json()["changes"]
    assert [(c["code"], c["op"]) for c in listed][-1] == (code, "split")
    assert "geometry" not in json.dumps(listed)  # names and codes, not boundaries


def test_a_split_that_does_not_cut_saves_nothing(
        api: FlaskClient, tx: Connection, login: Callable[..., Headers]) -> None:
    code, shape = _grid_with_buildings(tx)
    officer = login("data_officer", area=code[:6])
    before = _fingerprint(tx)
    inside = shape.representative_point()
    stub = shapely.LineString([(inside.x, inside.y), (inside.x + 1e-5, inside.y + 1e-5)])
    answer = api.post(f"/api/edits/grids/{code}/split", headers=officer,
                      json={"line": _geojson(stub)})
    assert answer.status_code == 400 and "across" in answer.get_json()["error"]["message"]
    minx, miny, maxx, maxy = shape.bounds  # a shaving off the west edge: a few square metres
    shave = shapely.LineString([(minx + 1e-6, miny - 0.001), (minx + 1e-6, maxy + 0.001)])
    answer = api.post(f"/api/edits/grids/{code}/split", headers=officer,
                      json={"line": _geojson(shave)})
    assert answer.status_code == 400, answer.get_json()
    assert api.post(f"/api/edits/grids/{code}/split", headers=officer,
                    json={"line": _geojson(shape)}).status_code == 400  # a polygon, not a line
    assert api.post(f"/api/edits/grids/{code}/split", headers=login("data_officer",
                                                                   area="210199"),
                    json={"line": _geojson(_across(shape))}).status_code == 404
    assert _fingerprint(tx) == before


def _neighbours_with_workers(tx: Connection) -> tuple[str, str, int, int]:
    row = tx.execute(text("""
        SELECT a.code, b.code, ma.person_id, mb.person_id FROM grid a JOIN grid b
          ON a.community_code = b.community_code AND a.code < b.code
         AND ST_Relate(a.geom, b.geom, 'F***1****')
         AND ST_Length(ST_Intersection(a.geom, b.geom)::geography) > 50
        JOIN grid_member ma ON ma.grid_code = a.code AND ma.role = 'grid_worker'
        JOIN grid_member mb ON mb.grid_code = b.code AND mb.role = 'grid_worker'
        WHERE ma.person_id <> mb.person_id
          AND EXISTS (SELECT 1 FROM building x WHERE x.grid_code = b.code)
        ORDER BY a.code LIMIT 1""")).one()
    return str(row[0]), str(row[1]), int(row[2]), int(row[3])


def _file_case(api: FlaskClient, who: Headers, tx: Connection, grid: str) -> int:
    spot = shapely.from_wkt(tx.execute(text(
        "SELECT ST_AsText(ST_PointOnSurface(geom)) FROM grid WHERE code = :c"),
        {"c": grid}).scalar_one())
    answer = api.post("/api/cases", headers=who, json={
        "category": "heating", "description": "暖气不热", "lon": spot.x, "lat": spot.y,
        "grid_code": grid, "confirm_new": True, "reporter_name": "王秀英",
        "reporter_phone": "13812345678"})
    assert answer.status_code == 201, answer.data[:400]
    return int(answer.get_json()["case_id"])


def test_a_merge_keeps_the_cases_of_the_grid_merged_away(
        api: FlaskClient, tx: Connection, login: Callable[..., Headers]) -> None:
    a, b, worker_a, worker_b = _neighbours_with_workers(tx)
    community = a[:12]
    union_area = _area_m2(tx, [a, b])
    b_buildings = set(tx.execute(text("SELECT code FROM building WHERE grid_code = :c"),
                                 {"c": b}).scalars())
    as_b = login("grid_worker", person_id=worker_b)
    case_id = _file_case(api, as_b, tx, b)
    # Every open case b's worker works for the grid goes over, the demo's as well as this one.
    open_of_b = sorted(tx.execute(text("""
        SELECT id FROM "case" WHERE grid_code = :b AND owner_person_id = :w
          AND coalesce(owner_kind, 'grid') = 'grid' AND state NOT IN ('closed', 'cancelled')"""),
        {"b": b, "w": worker_b}).scalars())
    assert case_id in open_of_b
    officer = login("data_officer", area=a[:6])
    answer = api.post("/api/edits/grids/merge", headers=officer,
                      json={"codes": [b, a], "keep": a, "name": "合并网格"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["merged"] == [b] and sorted(body["handed_over_cases"]) == open_of_b
    assert [w["person_id"] for w in body["released_workers"]] == [worker_b]
    assert body["moved_buildings"] >= len(b_buildings) > 0
    # The tiling: a is the union, b is gone, b's buildings are a's.
    assert tx.execute(text("SELECT count(*) FROM grid WHERE code = :c"), {"c": b}).scalar_one() == 0
    assert _area_m2(tx, [a]) == pytest.approx(union_area, rel=1e-6)
    assert set(tx.execute(text("SELECT code FROM building WHERE code = ANY(:c) AND grid_code = :a"),
                          {"c": list(b_buildings), "a": a}).scalars()) == b_buildings
    assert _misplaced_buildings(tx, community) == 0
    assert tx.execute(text("SELECT name FROM grid WHERE code = :c"), {"c": a}).scalar_one() == \
        "合并网格"
    # The history: b's last boundary names a; a's earlier boundary is kept too.
    assert tuple(tx.execute(text("SELECT reason, successor FROM grid_history WHERE code = :c"),
                            {"c": b}).one()) == ("merge", a)
    assert tx.execute(text("SELECT reason FROM grid_history WHERE code = :c"),
                      {"c": a}).scalar_one() == "merge"
    assert tx.execute(text("SELECT retired_at IS NOT NULL FROM grid_ever WHERE code = :c"),
                      {"c": b}).scalar_one()
    # The case stays b's, owned now by a's worker with a reassign event.
    grid, owner = tx.execute(text('SELECT grid_code, owner_person_id FROM "case" WHERE id = :i'),
                             {"i": case_id}).one()
    assert (grid, owner) == (b, worker_a)
    assert tx.execute(text("SELECT payload ->> 'reason' FROM case_event WHERE case_id = :i "
                           "AND action = 'reassign'"), {"i": case_id}).scalar_one() == "grid_merged"
    assert tx.execute(text('SELECT count(*) FROM "case" WHERE id = ANY(:ids) '
                           "AND owner_person_id = :a"),
                      {"ids": open_of_b, "a": worker_a}).scalar_one() == len(open_of_b)
    # a's worker reads and works it; b's former worker no longer does.
    as_a = login("grid_worker", person_id=worker_a)
    assert api.get(f"/api/cases/{case_id}", headers=as_a).status_code == 200
    assert api.get(f"/api/cases/{case_id}", headers=as_b).status_code == 404
    # Nobody files a new case in b, and b's code is not issued again.
    with pytest.raises(DBAPIError, match="not a current grid"), tx.begin_nested():
        tx.execute(text('UPDATE "case" SET grid_code = :b WHERE id = :i'), {"b": b, "i": case_id})
    assert _next_code(tx, community) > b


def test_grids_that_do_not_touch_are_not_merged(
        api: FlaskClient, tx: Connection, login: Callable[..., Headers]) -> None:
    a, far = tx.execute(text("""
        SELECT a.code, b.code FROM grid a JOIN grid b
          ON a.community_code = b.community_code AND a.code < b.code
         AND NOT ST_DWithin(a.geom, b.geom, 0.0005)
        ORDER BY a.code LIMIT 1""")).one()
    other = tx.execute(text("SELECT code FROM grid WHERE community_code <> :c ORDER BY code "
                            "LIMIT 1"), {"c": a[:12]}).scalar_one()
    admin = login("admin")
    before = _fingerprint(tx)
    answer = api.post("/api/edits/grids/merge", headers=admin, json={"codes": [a, far]})
    assert answer.status_code == 422 and "do not touch" in answer.get_json()["error"]["message"]
    answer = api.post("/api/edits/grids/merge", headers=admin, json={"codes": [a, other]})
    assert answer.status_code == 400 and "one community" in answer.get_json()["error"]["message"]
    answer = api.post("/api/edits/grids/merge", headers=admin,
                      json={"codes": [a, far], "keep": other})
    assert answer.status_code == 400
    assert api.post("/api/edits/grids/merge", headers=admin,
                    json={"codes": [a]}).status_code == 400
    assert _fingerprint(tx) == before
