"""Importing a city's files into the real PostGIS: what is written, what is refused, and that a
refused or dry-run import changes nothing.

The files are made here from the loaded test district (沈河区), in the formats and CRSs cities
send: a GBK Shapefile in the Gauss-Krüger zone, an Amap (GCJ-02) CSV, a GeoPackage.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap import crs as datums
from gridmap.access import Principal, Role
from gridmap.errors import Forbidden
from gridmap.exchange.report import errors
from gridmap.exchange.services import imports

OPERATOR = Principal(role=Role.ADMIN, username="test-operator")


def _grids(conn: Connection, community: str | None = None) -> gpd.GeoDataFrame:
    where = "WHERE community_code = :c" if community else ""
    return gpd.read_postgis(text(f"SELECT code, name, geom FROM grid {where} ORDER BY code"),  # noqa: S608
                            conn, geom_col="geom", params={"c": community})


def _community_with_grids(conn: Connection, n: int = 4) -> str:
    return str(conn.execute(text(
        "SELECT community_code FROM grid g WHERE NOT EXISTS (SELECT 1 FROM \"case\" c "
        "WHERE c.grid_code = g.code) GROUP BY 1 HAVING count(*) >= :n ORDER BY 1 LIMIT 1"),
        {"n": n}).scalar_one())


def _shapefile(frame: gpd.GeoDataFrame, path: Path, epsg: int) -> Path:
    out = frame.rename(columns={"code": "网格编码", "name": "网格名称"}).to_crs(epsg=epsg)
    pyogrio.write_dataframe(out, path, encoding="gbk")
    return path


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def test_grids_from_a_gbk_shapefile_in_gauss_kruger_round_trip_unchanged(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    community = _community_with_grids(connection)
    path = _shapefile(_grids(connection, community), tmp_path / "grids.shp", 4550)
    outcome = imports.run(factory, OPERATOR, imports.Options("grids", path))
    assert outcome.crs.endswith("4550") and outcome.mapping == {"code": "网格编码",
                                                                "name": "网格名称"}
    assert errors(outcome.problems) == []
    changes = outcome.changes
    assert (changes["added"], changes["changed"], changes["removed"]) == (0, 0, 0)
    assert changes["unchanged"] == outcome.features >= 4
    recorded = connection.execute(text(
        "SELECT layer, file_name, crs, mode, counts FROM data_import WHERE id = :i"),
        {"i": outcome.import_id}).one()
    assert recorded.layer == "grids" and recorded.counts["unchanged"] == outcome.features


def test_gcj02_labelled_wgs84_is_refused_then_imported_with_the_right_crs(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    rows = connection.execute(text(
        "SELECT code, type, name, ST_X(geom), ST_Y(geom) FROM facility "
        "WHERE type = 'elder_care_station' ORDER BY code LIMIT 60")).all()
    path = tmp_path / "amap.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["设施编码", "设施类型", "设施名称", "经度", "纬度"])
        for code, kind, name, x, y in rows:
            gx, gy = datums.wgs84_to_gcj02(x, y)
            writer.writerow([code, kind, f"{name}（更名）", f"{float(gx):.7f}", f"{float(gy):.7f}"])
    before = connection.execute(text("SELECT md5(string_agg(name || ST_AsText(geom), ',' "
                                     "ORDER BY code)) FROM facility")).scalar_one()
    with pytest.raises(imports.ImportRejected) as refused:
        imports.run(factory, OPERATOR, imports.Options("facilities", path))
    problem = errors(refused.value.outcome.problems)[0]
    assert problem.code == "datum_mismatch" and "--crs gcj02" in problem.en
    assert " m north-east of the same features" in problem.en
    assert connection.execute(text("SELECT md5(string_agg(name || ST_AsText(geom), ',' "
                                   "ORDER BY code)) FROM facility")).scalar_one() == before
    outcome = imports.run(factory, OPERATOR, imports.Options("facilities", path, crs="gcj02",
                                                             source="民政局 2026-11"))
    assert outcome.changes["changed"] == len(rows) and outcome.written
    moved = connection.execute(text("""
        SELECT max(ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography))
        FROM facility f WHERE f.code = :c"""), {"c": rows[0][0], "x": rows[0][3],
                                                   "y": rows[0][4]}).scalar_one()
    assert moved < 0.01  # back where it was, to the centimetre, through our own GCJ-02 code
    assert connection.execute(text("SELECT name FROM facility WHERE code = :c"),
                              {"c": rows[0][0]}).scalar_one().endswith("（更名）")


def test_a_dry_run_reports_and_writes_nothing(factory: sessionmaker[Session],
                                              connection: Connection, tmp_path: Path) -> None:
    community = _community_with_grids(connection)
    grids = _grids(connection, community)
    grids.loc[0, "name"] = "改名网格"
    path = _shapefile(grids, tmp_path / "g.shp", 4326)
    imports_before = _count(connection, "data_import")
    outcome = imports.run(factory, OPERATOR, imports.Options("grids", path, dry_run=True))
    assert (outcome.changes["changed"], outcome.written) == (1, False)
    assert outcome.changes["codes"]["changed"] == [grids.loc[0, "code"]]
    assert connection.execute(text("SELECT name FROM grid WHERE code = :c"),
                              {"c": grids.loc[0, "code"]}).scalar_one() != "改名网格"
    assert _count(connection, "data_import") == imports_before


def test_overlapping_and_misplaced_grids_are_refused_with_where(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    community = _community_with_grids(connection)
    grids = _grids(connection, community)
    outline = shapely.from_wkb(bytes(connection.execute(text(
        "SELECT ST_AsBinary(geom) FROM community WHERE code = :c"), {"c": community}).scalar_one()))
    grown = grids.geometry.iloc[0].buffer(0.0003, join_style="mitre").intersection(outline)
    grown = max(getattr(grown, "geoms", [grown]), key=lambda g: g.area)  # reaches its neighbours
    grids.loc[grids.index[0], "geom"] = grown
    far = grids.iloc[[2]].copy()
    far["code"] = f"{community[:9]}999999"  # a community that does not exist
    path = _shapefile(gpd.GeoDataFrame(
        [*grids.to_dict("records"), *far.to_dict("records")], geometry="geom",
        crs=grids.crs), tmp_path / "bad.shp", 4326)
    before = connection.execute(text("SELECT md5(string_agg(ST_AsText(geom), ',' ORDER BY code)) "
                                     "FROM grid")).scalar_one()
    with pytest.raises(imports.ImportRejected) as refused:
        imports.run(factory, OPERATOR, imports.Options("grids", path))
    found = {p.code: p for p in errors(refused.value.outcome.problems)}
    assert set(found) == {"grids_overlap", "parent_missing"}
    overlap = found["grids_overlap"]
    assert overlap.key == grids.loc[grids.index[0], "code"] and overlap.where is not None
    assert overlap.where.area > 0 and "m²" in overlap.zh
    assert connection.execute(text("SELECT md5(string_agg(ST_AsText(geom), ',' ORDER BY code)) "
                                   "FROM grid")).scalar_one() == before


def test_replace_will_not_remove_a_grid_people_or_cases_refer_to(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    community = _community_with_grids(connection)
    grids = _grids(connection, community)
    path = _shapefile(grids.iloc[1:], tmp_path / "fewer.shp", 4326)
    with pytest.raises(imports.ImportRejected) as refused:
        imports.run(factory, OPERATOR, imports.Options("grids", path, mode="replace"))
    found = errors(refused.value.outcome.problems)
    assert {p.code for p in found} == {"still_referred_to"}
    assert {p.key for p in found} == {grids.loc[0, "code"]}
    assert any(p.en.startswith(f"grid {p.key} is not in the file but still has 1 grid worker")
               for p in found)


def test_a_reimported_boundary_keeps_the_old_one_in_the_history(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    community = _community_with_grids(connection)
    grids = _grids(connection, community)
    first = grids.loc[0, "code"]
    old = grids.loc[0, "geom"]
    # The first grid loses a corner strip (1/10 of its width) to nobody: still inside its
    # community, overlapping none, a gap noted.
    minx, _, maxx, _ = old.bounds
    shrunk = old.difference(shapely.box(minx, -90, minx + (maxx - minx) / 10, 90))
    grids.loc[0, "geom"] = max(getattr(shrunk, "geoms", [shrunk]), key=lambda g: g.area)
    path = _shapefile(grids, tmp_path / "reshaped.shp", 4326)
    outcome = imports.run(factory, OPERATOR, imports.Options("grids", path))
    assert outcome.changes["changed"] == 1, outcome.changes
    reason, kept, valid_to = connection.execute(text(
        "SELECT h.reason, ST_AsText(h.geom), h.valid_to = g.valid_from FROM grid_history h "
        "JOIN grid g ON g.code = h.code WHERE h.code = :c"), {"c": first}).one()
    assert reason == "reshape" and valid_to
    assert shapely.from_wkt(kept).equals_exact(old, 1e-9)


def test_new_buildings_find_their_grid_and_one_outside_every_grid_is_refused(
        factory: sessionmaker[Session], connection: Connection, tmp_path: Path) -> None:
    grid_code, inner = connection.execute(text(
        "SELECT code, ST_AsText(ST_PointOnSurface(geom)) FROM grid ORDER BY code LIMIT 1")).one()
    centre = shapely.from_wkt(inner)
    houses = gpd.GeoDataFrame({"楼栋编码": ["IMP-1", "IMP-2", "IMP-3"],
                               "楼栋名称": ["新楼一", "新楼二", "新楼三"],
                               "常住人口": [120, 80, 3_000_000_000], "60岁以上": [30, 10, 0]},
                              geometry=[centre.buffer(0.00005, cap_style="square"),
                                        shapely.box(124.9, 42.3, 124.9001, 42.3001),
                                        centre.buffer(0.00002, cap_style="square")],
                              crs="EPSG:4326")
    path = tmp_path / "houses.gpkg"
    pyogrio.write_dataframe(houses, path)
    with pytest.raises(imports.ImportRejected) as refused:  # a count beyond integer reaches
        imports.run(factory, OPERATOR, imports.Options("buildings", path))  # the report too
    assert {(p.key, p.code) for p in errors(refused.value.outcome.problems)} == {
        ("IMP-2", "outside_city"), ("IMP-2", "outside_grids"), ("IMP-3", "absurd_count")}
    pyogrio.write_dataframe(houses.iloc[:1], path)
    outcome = imports.run(factory, OPERATOR, imports.Options("buildings", path))
    assert outcome.changes["added"] == 1
    stored = connection.execute(text(
        "SELECT grid_code, residents, aged_60_plus, households FROM building WHERE code = 'IMP-1'"
    )).one()
    assert tuple(stored) == (grid_code, 120, 30, 0)


def test_facility_types_counts_and_codes_are_checked_together(
        factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    frame = gpd.GeoDataFrame({"code": ["X1", "X1", "X3"], "type": ["spaceport", "pocket_park",
                                                                 "pocket_park"],
                              "name": ["a", "b", "c"], "capacity": [1, -5, 2]},
                             geometry=[shapely.Point(123.43, 41.8)] * 3, crs="EPSG:4326")
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(imports.ImportRejected) as refused:
        imports.run(factory, OPERATOR, imports.Options("facilities", path))
    assert sorted((p.row, p.code) for p in errors(refused.value.outcome.problems)) == [
        (1, "unknown_facility_type"), (2, "code_duplicate"), (2, "negative_count")]


def test_only_data_officers_and_administrators_import(factory: sessionmaker[Session],
                                                      tmp_path: Path) -> None:
    with pytest.raises(Forbidden):
        imports.run(factory, Principal(role=Role.PLANNER, username="p", account_id=1),
                    imports.Options("grids", tmp_path / "none.shp"))

