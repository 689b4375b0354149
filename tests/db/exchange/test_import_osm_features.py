"""Buildings and facilities from an OpenStreetMap extract, into the real PostGIS through the same
checks, dry run, modes and record as a city's files; coverage then counts them.

The extract is written here (OSM XML) around a grid of the loaded test district (沈河区), with
what an extract holds besides: ``building=no``, a garage, a multipolygon building, a building in
no grid, a park too big to be a pocket park, a bench, a bus stop named after a clinic.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from osm_extract import Extract, square
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.coverage.services.compute import compute
from gridmap.errors import InvalidInput
from gridmap.exchange.report import Severity, errors
from gridmap.exchange.services import imports, osm_layers

OPERATOR = Principal(role=Role.ADMIN, username="test-operator")
D = 0.00008
"""A building's side in degrees (about 7 × 9 m)."""


def _places(conn: Connection, n: int) -> tuple[str, list[tuple[float, float]]]:
    """A grid without cases and ``n`` points inside it (each a building's corner)."""
    grid = conn.execute(text(
        "SELECT code FROM grid g WHERE NOT EXISTS (SELECT 1 FROM \"case\" c "
        "WHERE c.grid_code = g.code) ORDER BY ST_Area(geom) DESC LIMIT 1")).scalar_one()
    rows = conn.execute(text(
        "SELECT ST_X(p.geom), ST_Y(p.geom) FROM grid g, "
        "ST_Dump(ST_GeneratePoints(ST_Buffer(g.geom::geography, -20)::geometry, :n, 7)) p "
        "WHERE g.code = :g"), {"g": grid, "n": n}).all()
    return str(grid), [(float(x), float(y)) for x, y in rows]


def _east_of_district(conn: Connection) -> tuple[float, float]:
    """A point in the city's extent but in no grid (east of the loaded district)."""
    x, y = conn.execute(text("SELECT ST_XMax(e), (ST_YMin(e) + ST_YMax(e)) / 2 "
                             "FROM (SELECT ST_Extent(geom) e FROM district) d")).one()
    return float(x) + 0.02, float(y)


def _buildings(conn: Connection, path: Path) -> tuple[str, Extract]:
    grid, at = _places(conn, 8)
    e = Extract()
    e.way(100, square(*at[0], D), {"building": "residential", "building:levels": "6",
                                    "addr:street": "团结路", "addr:housenumber": "3号"})
    e.way(101, square(*at[1], D), {"building": "yes", "name": "A座"})
    e.way(102, square(*at[2], D), {"building": "no"})
    e.way(103, square(*at[3], D), {"building": "garage"})
    e.way(104, square(*at[4], D), {"building": "yes", "name": "B座"})
    e.way(105, square(*at[5], D * 2), {})  # a relation's two parts: the larger one is kept
    e.way(106, square(*at[6], D / 2), {})
    e.relation(7, [105, 106], {"building": "apartments", "name": "C座"})
    e.way(108, square(*_east_of_district(conn), D), {"building": "yes"})
    e.write(path)
    return grid, e


def _count(conn: Connection, table: str, prefix: str = "osm:") -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table} "  # noqa: S608 - a test's own
                                 "WHERE code LIKE :p"), {"p": prefix + "%"}).scalar_one())


def test_osm_buildings_dry_run_then_import_then_again_unchanged(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    path = tmp_path / "shenhe.osm"
    grid, _ = _buildings(connection, path)
    options = imports.Options("buildings", path, dry_run=True)
    assert osm_layers.applies(options)
    dry = osm_layers.run(factory, OPERATOR, options)
    assert not dry.written and dry.changes["added"] == 4 and _count(connection, "building") == 0
    notes = {p.code: p for p in dry.problems if p.severity is Severity.NOTE}
    assert errors(dry.problems) == []
    assert "building=no ×1" in notes["osm_skipped"].en and "garage" in notes["osm_skipped"].en
    assert notes["osm_outside_grids"].en.startswith("1 buildings lie in no grid")
    assert notes["osm_outside_grids"].where is not None
    assert notes["counts_unknown"].en.startswith("4 buildings have no households")
    assert "osm_parts_dropped" in notes
    done = osm_layers.run(factory, OPERATOR, imports.Options(
        "buildings", path, source="OpenStreetMap contributors", licence="ODbL"))
    assert done.written and done.changes["added"] == 4
    rows = {r.code: r for r in connection.execute(text(
        "SELECT code, name, address, grid_code, residents, households FROM building "
        "WHERE code LIKE 'osm:%'"))}
    assert set(rows) == {"osm:w100", "osm:w101", "osm:w104", "osm:r7"}
    assert {r.grid_code for r in rows.values()} == {grid}
    assert rows["osm:w100"].name == rows["osm:w100"].address == "团结路3号"
    assert rows["osm:r7"].name == "C座" and rows["osm:w101"].residents == 0
    recorded = connection.execute(text("SELECT layer, licence, counts, problems FROM data_import "
                                       "WHERE id = :i"), {"i": done.import_id}).one()
    assert recorded.layer == "buildings" and recorded.counts["added"] == 4
    assert recorded.problems["note:counts_unknown"] == 1
    # Counts given later (by the housing bureau's file, say) survive the next extract.
    connection.execute(text("UPDATE building SET households = 40, residents = 96, "
                            "aged_60_plus = 30 WHERE code = 'osm:w100'"))
    again = osm_layers.run(factory, OPERATOR, imports.Options("buildings", path))
    assert (again.changes["added"], again.changes["changed"], again.changes["unchanged"]) == \
        (0, 0, 4)
    assert connection.execute(text("SELECT residents FROM building WHERE code = 'osm:w100'")
                              ).scalar_one() == 96
    assert "3 buildings have no households" in next(
        p.en for p in again.problems if p.code == "counts_unknown")


def _facilities(conn: Connection, path: Path) -> None:
    _, at = _places(conn, 6)
    e = Extract()
    e.node(*at[0], amenity="social_facility", **{"social_facility:for": "senior"},
           name="团结养老站", capacity="30")
    e.node(*at[1], amenity="bench")
    e.node(*at[2], highway="bus_stop", name="社区卫生服务中心")
    e.node(*at[3], amenity="community_centre", name="团结社区党群服务中心")
    e.way(200, square(*at[4], 0.0003), {"leisure": "park"})  # ~800 m²: a pocket park
    x, y = at[5]
    e.way(201, square(x - 0.004, y - 0.004, 0.004), {"leisure": "park", "name": "大公园"})
    e.write(path)


def test_osm_facilities_are_typed_by_the_tag_mapping_and_coverage_counts_them(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    path = tmp_path / "shenhe-pois.osm"
    _facilities(connection, path)
    before = compute(factory, "pocket_park", "5min")
    dry = osm_layers.run(factory, OPERATOR, imports.Options("facilities", path, dry_run=True))
    assert dry.changes["added"] == 3 and _count(connection, "facility") == 0
    skipped = next(p for p in dry.problems if p.code == "osm_skipped")
    assert "pocket_park: > 10000 m² ×1" in skipped.en and "amenity=bench ×1" in skipped.en
    assert "bus_stop" not in skipped.en
    done = osm_layers.run(factory, OPERATOR, imports.Options("facilities", path))
    assert done.written and errors(done.problems) == []
    rows = {r.code: r for r in connection.execute(text(
        "SELECT code, type, name, capacity, community_code, ST_GeometryType(geom) AS kind "
        "FROM facility WHERE code LIKE 'osm:%'"))}
    assert {c: r.type for c, r in rows.items()} == {"osm:n1": "elder_care_station",
                                                   "osm:n4": "party_service_station",
                                                   "osm:w200": "pocket_park"}
    assert rows["osm:n1"].capacity == 30 and rows["osm:w200"].name == "口袋公园"
    assert {r.kind for r in rows.values()} == {"ST_Point"}
    assert all(r.community_code for r in rows.values())
    after = compute(factory, "pocket_park", "5min")
    assert after.facilities == before.facilities + 1


def test_a_tag_file_of_ones_own_maps_other_tags(factory: sessionmaker[Session],
                                               connection: Connection, tmp_path: Path) -> None:
    path = tmp_path / "shenhe-pois.osm"
    _facilities(connection, path)
    tags = tmp_path / "tags.toml"
    tags.write_text("[buildings]\nskip = []\n[facilities]\nignore = []\n[[facilities.rule]]\n"
                    "type = 'charity_canteen'\ntags = { amenity = 'bench' }\n", encoding="utf-8")
    dry = osm_layers.run(factory, OPERATOR, imports.Options("facilities", path, dry_run=True),
                         tags=tags)
    assert dry.changes["added"] == 1 and dry.changes["codes"]["added"] == ["osm:n2"]
    tags.write_text("[[facilities.rule]]\ntype = 'tea_house'\ntags = { amenity = 'cafe' }\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown facility types"):
        osm_layers.run(factory, OPERATOR, imports.Options("facilities", path), tags=tags)


def test_an_extract_without_buildings_is_refused_and_writes_nothing(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    path = tmp_path / "streets-only.osm"
    e = Extract()
    _, at = _places(connection, 2)
    e.way(1, square(*at[0], D), {"building": "no"})
    e.node(*at[1], highway="crossing")
    e.write(path)
    imported = connection.execute(text("SELECT count(*) FROM data_import")).scalar_one()
    with pytest.raises(InvalidInput, match=r"holds no buildings \(building=\*\); nothing written"):
        osm_layers.run(factory, OPERATOR, imports.Options("buildings", path))
    with pytest.raises(InvalidInput, match="no facilities matching the tag mapping"):
        osm_layers.run(factory, OPERATOR, imports.Options("facilities", path))
    assert connection.execute(text("SELECT count(*) FROM data_import")).scalar_one() == imported


def test_an_extract_of_another_city_or_outside_the_grids_is_refused(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    beijing = Extract()
    beijing.way(1, square(116.40, 39.90, D), {"building": "yes"})
    path = beijing.write(tmp_path / "beijing.osm")
    with pytest.raises(InvalidInput, match="outside the city"):
        osm_layers.run(factory, OPERATOR, imports.Options("buildings", path))
    nearby = Extract()
    nearby.way(1, square(*_east_of_district(connection), D), {"building": "yes"})
    path = nearby.write(tmp_path / "nearby.osm")
    with pytest.raises(InvalidInput, match="none of the 1 buildings lies in a loaded grid"):
        osm_layers.run(factory, OPERATOR, imports.Options("buildings", path))
    with pytest.raises(InvalidInput, match="WGS84"):
        osm_layers.run(factory, OPERATOR, imports.Options("buildings", path, crs="gcj02"))
    assert _count(connection, "building") == 0

