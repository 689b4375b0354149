"""CQL2 conformance table: each operator, in CQL2 text and CQL2 JSON, against ids computed
independently in SQL on the same tables (not through the OGC code)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from ogc_support import all_ids
from sqlalchemy import Connection, Engine, text


@pytest.fixture(scope="module")
def place(engine: Engine) -> dict[str, Any]:
    """A busy grid, two of its buildings, a point inside it and a facility type."""
    with engine.connect() as conn:
        grid = conn.execute(text("SELECT grid_code FROM building GROUP BY grid_code "
                                 "ORDER BY count(*) DESC, grid_code LIMIT 1")).scalar_one()
        codes = list(conn.execute(text("SELECT code FROM building WHERE grid_code = :g "
                                       "ORDER BY code LIMIT 2"), {"g": grid}).scalars())
        lon, lat = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                                     "FROM grid WHERE code = :g) s"), {"g": grid}).one()
        residents = conn.execute(text("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY residents) "
                                      "FROM building WHERE grid_code = :g"), {"g": grid}).scalar_one()
        x, y = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
                                 "ST_SetSRID(ST_Point(:x, :y), 4326), 4550) p) s"),
                            {"x": lon, "y": lat}).one()
    return {"grid": grid, "codes": codes, "lon": lon, "lat": lat, "residents": residents,
            "name": codes[0][:0], "gk": (x, y)}


def _cases(p: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str, dict[str, Any]]]:
    """(label, CQL2 text, CQL2 JSON, the oracle's WHERE on building b, its parameters)."""
    g, r, (c1, c2) = p["grid"], p["residents"], p["codes"]
    box = [p["lon"] - 0.003, p["lat"] - 0.003, p["lon"] + 0.003, p["lat"] + 0.003]
    in_grid = {"op": "=", "args": [{"property": "grid_code"}, g]}

    def both(op: dict[str, Any]) -> dict[str, Any]:
        return {"op": "and", "args": [in_grid, op]}

    prop = {"property": "residents"}
    return [
        ("=", f"grid_code = '{g}' AND residents = {r}", both({"op": "=", "args": [prop, r]}),
         "b.grid_code = :g AND b.residents = :r", {}),
        ("<>", f"grid_code = '{g}' AND residents <> {r}", both({"op": "<>", "args": [prop, r]}),
         "b.grid_code = :g AND b.residents <> :r", {}),
        ("<", f"grid_code = '{g}' AND residents < {r}", both({"op": "<", "args": [prop, r]}),
         "b.grid_code = :g AND b.residents < :r", {}),
        ("<=", f"grid_code = '{g}' AND residents <= {r}", both({"op": "<=", "args": [prop, r]}),
         "b.grid_code = :g AND b.residents <= :r", {}),
        (">", f"grid_code = '{g}' AND residents > {r}", both({"op": ">", "args": [prop, r]}),
         "b.grid_code = :g AND b.residents > :r", {}),
        (">=", f"grid_code = '{g}' AND residents >= {r}", both({"op": ">=", "args": [prop, r]}),
         "b.grid_code = :g AND b.residents >= :r", {}),
        ("LIKE", f"code LIKE '{g}%'", {"op": "like", "args": [{"property": "code"}, f"{g}%"]},
         "b.code LIKE :g || '%'", {}),
        ("NOT LIKE", f"grid_code = '{g}' AND code NOT LIKE '%1'",
         both({"op": "not", "args": [{"op": "like", "args": [{"property": "code"}, "%1"]}]}),
         "b.grid_code = :g AND b.code NOT LIKE '%1'", {}),
        ("IN", f"code IN ('{c1}', '{c2}')", {"op": "in", "args": [{"property": "code"}, [c1, c2]]},
         "b.code IN (:c1, :c2)", {"c1": c1, "c2": c2}),
        ("BETWEEN", f"grid_code = '{g}' AND residents BETWEEN {r - 50} AND {r + 50}",
         both({"op": "between", "args": [prop, r - 50, r + 50]}),
         "b.grid_code = :g AND b.residents BETWEEN :r - 50 AND :r + 50", {}),
        ("IS NULL", f"grid_code = '{g}' AND name IS NULL",
         both({"op": "isNull", "args": [{"property": "name"}]}), "b.grid_code = :g AND b.name IS NULL", {}),
        ("IS NOT NULL", f"grid_code = '{g}' AND name IS NOT NULL",
         both({"op": "not", "args": [{"op": "isNull", "args": [{"property": "name"}]}]}),
         "b.grid_code = :g AND b.name IS NOT NULL", {}),
        ("OR", f"code = '{c1}' OR code = '{c2}'",
         {"op": "or", "args": [{"op": "=", "args": [{"property": "code"}, c1]},
                               {"op": "=", "args": [{"property": "code"}, c2]}]},
         "b.code = :c1 OR b.code = :c2", {"c1": c1, "c2": c2}),
        ("NOT", f"grid_code = '{g}' AND NOT (residents > {r})",
         both({"op": "not", "args": [{"op": ">", "args": [prop, r]}]}),
         "b.grid_code = :g AND NOT b.residents > :r", {}),
        ("CASEI", f"grid_code = '{g}' AND CASEI(code) = CASEI('{c1}')",
         both({"op": "=", "args": [{"op": "casei", "args": [{"property": "code"}]},
                                   {"op": "casei", "args": [c1]}]}),
         "b.grid_code = :g AND lower(b.code) = lower(:c1)", {"c1": c1}),
        ("S_INTERSECTS", f"S_INTERSECTS(geometry, BBOX({box[0]}, {box[1]}, {box[2]}, {box[3]}))",
         {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": box}]},
         "ST_Intersects(b.geom, ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326))", _box(box)),
        ("S_WITHIN", f"S_WITHIN(geometry, POLYGON(({box[0]} {box[1]}, {box[2]} {box[1]}, "
                     f"{box[2]} {box[3]}, {box[0]} {box[3]}, {box[0]} {box[1]})))",
         {"op": "s_within", "args": [{"property": "geometry"}, {"bbox": box}]},
         "ST_Within(b.geom, ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326))", _box(box)),
        ("S_DWITHIN", f"S_DWITHIN(geometry, POINT({p['lon']} {p['lat']}), 300)",
         {"op": "s_dwithin", "args": [{"property": "geometry"},
                                      {"type": "Point", "coordinates": [p["lon"], p["lat"]]}, 300]},
         "ST_DWithin(b.geom::geography, ST_SetSRID(ST_Point(:lon, :lat), 4326)::geography, 300)", {}),
    ]


def _box(box: list[float]) -> dict[str, float]:
    return dict(zip(("x1", "y1", "x2", "y2"), box, strict=True))


def _oracle(tx: Connection, where: str, params: dict[str, Any]) -> list[str]:
    sql = f"SELECT b.code FROM building b WHERE {where} ORDER BY b.code"  # noqa: S608 - test's own
    return list(tx.execute(text(sql), params).scalars())


def test_every_operator_in_text_and_json(api: FlaskClient, tx: Connection, place: dict[str, Any]) -> None:
    base = {"g": place["grid"], "r": place["residents"], "lon": place["lon"], "lat": place["lat"]}
    failures = []
    for label, cql_text, cql_json, where, extra in _cases(place):
        expected = _oracle(tx, where, {**base, **extra})
        as_text = all_ids(api, "buildings", limit=1000, filter=cql_text)
        as_json = all_ids(api, "buildings", limit=1000, filter=json.dumps(cql_json),
                          **{"filter-lang": "cql2-json"})
        if as_text != expected or as_json != expected:
            failures.append(f"{label}: expected {len(expected)}, text {len(as_text)}, json {len(as_json)}")
    assert not failures, failures
    assert any(_oracle(tx, w, {**base, **e}) for _, _, _, w, e in _cases(place))


def test_filter_crs_lat_lon_and_gauss_kruger(api: FlaskClient, tx: Connection,
                                             place: dict[str, Any]) -> None:
    lon, lat, (x, y) = place["lon"], place["lat"], place["gk"]
    expected = _oracle(tx, "ST_DWithin(b.geom::geography, ST_SetSRID(ST_Point(:lon, :lat), 4326)"
                           "::geography, 250)", {"lon": lon, "lat": lat})
    assert expected
    flipped = all_ids(api, "buildings", limit=1000,
                      filter=f"S_DWITHIN(geometry, POINT({lat} {lon}), 250)",
                      **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    projected = all_ids(api, "buildings", limit=1000, filter=f"S_DWITHIN(geometry, POINT({x} {y}), 250)",
                        **{"filter-crs": "EPSG:4550"})
    assert flipped == expected and projected == expected


def test_datetime_literal_on_cases(api: FlaskClient) -> None:
    response = api.get("/ogc/collections/cases/items",
                       query_string={"filter": "created_at >= TIMESTAMP('2024-01-01T00:00:00Z')"})
    assert response.status_code == 200
