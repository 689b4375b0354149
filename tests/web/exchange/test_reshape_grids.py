"""Reshaping grid boundaries through the API: two neighbours move their shared edge together,
the old boundaries stay in the history, buildings follow, and what would break is refused."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import shapely
from flask.testing import FlaskClient
from sqlalchemy import Connection, text


def _neighbours(tx: Connection) -> tuple[str, str, shapely.Polygon, shapely.Polygon]:
    a, b, ga, gb = tx.execute(text("""
        SELECT a.code, b.code, ST_AsText(a.geom), ST_AsText(b.geom) FROM grid a JOIN grid b
          ON a.community_code = b.community_code AND a.code < b.code
         AND ST_Relate(a.geom, b.geom, 'F***1****')
         AND ST_Length(ST_Intersection(a.geom, b.geom)::geography) > 50
         AND ST_GeometryType(ST_Union(a.geom, b.geom)) = 'ST_Polygon'
        ORDER BY a.code LIMIT 1""")).one()
    return a, b, shapely.from_wkt(ga), shapely.from_wkt(gb)


def _geojson(shape: shapely.Geometry) -> dict[str, object]:
    return json.loads(shapely.to_geojson(shape))


def test_two_neighbours_move_their_shared_edge_with_history(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    a, b, ga, gb = _neighbours(tx)
    officer = login("data_officer", area=a[:6])
    # Move a slice of b (next to a) over to a: a grows, b shrinks, together.
    slice_ = gb.intersection(ga.buffer(0.0004, join_style="mitre"))
    new_a = shapely.union(ga, slice_)
    new_b = gb.difference(slice_)
    new_b = max(getattr(new_b, "geoms", [new_b]), key=lambda g: g.area)
    assert new_a.geom_type == "Polygon" and new_b.area < gb.area
    answer = api.post("/api/edits/grids", headers=officer, json={
        "grids": {a: _geojson(new_a), b: _geojson(new_b)}})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["grids"] == sorted([a, b])
    stored = shapely.from_wkt(tx.execute(text("SELECT ST_AsText(geom) FROM grid WHERE code = :c"),
                                         {"c": a}).scalar_one())
    assert abs(stored.area - new_a.area) < 1e-12
    versions = api.get(f"/api/edits/grids/{a}", headers=officer).get_json()
    (old,) = versions["history"]
    assert shapely.geometry.shape(old["geometry"]).equals_exact(ga, 1e-6)  # 7 decimals: 1 cm
    assert old["valid_to"] == versions["valid_from"]
    # Every building lies in the grid it is listed in.
    assert tx.execute(text("""SELECT count(*) FROM building bl JOIN grid g ON g.code = bl.grid_code
        WHERE g.community_code = :c AND NOT ST_Contains(g.geom, ST_PointOnSurface(bl.geom))"""),
                      {"c": a[:12]}).scalar_one() == 0
    ops = tx.execute(text("SELECT op FROM data_change WHERE layer = 'grids' AND code IN (:a, :b)"),
                     {"a": a, "b": b}).scalars().all()
    assert sorted(ops) == ["reshape", "reshape"]


def test_a_reshape_that_breaks_the_rules_saves_nothing(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    a, b, ga, gb = _neighbours(tx)
    admin = login("admin")
    before = tx.execute(text("SELECT md5(string_agg(ST_AsText(geom), ',' ORDER BY code)) "
                             "FROM grid")).scalar_one()
    outline = shapely.from_wkt(tx.execute(text("SELECT ST_AsText(geom) FROM community "
                                               "WHERE code = :c"), {"c": a[:12]}).scalar_one())
    grown = ga.buffer(0.0004, join_style="mitre").intersection(outline)  # over b, left as it is
    grown = max(getattr(grown, "geoms", [grown]), key=lambda g: g.area)
    answer = api.post("/api/edits/grids", headers=admin, json={"grids": {a: _geojson(grown)}})
    assert answer.status_code == 422
    assert "overlap" in answer.get_json()["error"]["message"]
    shrunk = ga.buffer(-0.0003, join_style="mitre")  # a's edges pulled in: a gap all round
    answer = api.post("/api/edits/grids", headers=admin, json={"grids": {a: _geojson(shrunk)}})
    assert answer.status_code == 422 and "in no grid" in answer.get_json()["error"]["message"]
    (gap,) = answer.get_json()["error"]["places"]["features"]  # where, for the page's map
    assert gap["properties"]["problem"] == "grid_gap"
    assert shapely.geometry.shape(gap["geometry"]).area == pytest.approx(
        ga.area - shrunk.area, rel=1e-6)
    far = shapely.box(116.3, 39.9, 116.31, 39.91)
    answer = api.post("/api/edits/grids", headers=admin, json={"grids": {a: _geojson(far)}})
    assert answer.status_code == 422 and "leave its community" in \
        answer.get_json()["error"]["message"]
    bowtie = {"type": "Polygon", "coordinates": [[[123.4, 41.7], [123.41, 41.71], [123.41, 41.7],
                                                  [123.4, 41.71], [123.4, 41.7]]]}
    assert api.post("/api/edits/grids", headers=admin,
                    json={"grids": {a: bowtie}}).status_code == 400
    assert api.post("/api/edits/grids", headers=admin,
                    json={"grids": {"123": _geojson(ga)}}).status_code == 400
    assert api.post("/api/edits/grids", headers=login("data_officer", area="210104"),
                    json={"grids": {a: _geojson(ga)}}).status_code == 404
    assert tx.execute(text("SELECT md5(string_agg(ST_AsText(geom), ',' ORDER BY code)) "
                           "FROM grid")).scalar_one() == before
