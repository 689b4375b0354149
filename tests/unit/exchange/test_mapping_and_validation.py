"""Field mapping and the per-feature checks, on frames made here (no files, no database)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gridmap.errors import InvalidInput
from gridmap.exchange import mapping, validation
from gridmap.exchange.layers import BUILDINGS, COMMUNITIES, FACILITIES, GRIDS
from gridmap.exchange.report import Severity, errors

SHENYANG = (122.4, 41.1, 123.9, 42.4)


def _frame(columns: dict[str, list[object]], geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")


def test_a_mapping_is_proposed_from_chinese_column_names() -> None:
    columns = ["OBJECTID", "网格编码", "网格名称", "面积"]
    assert mapping.propose(GRIDS, columns) == {"code": "网格编码", "name": "网格名称"}
    proposed = mapping.propose(BUILDINGS, ["楼栋编码", "楼栋名称", "常住人口", "60岁以上",
                                           "所属网格编码"])
    assert proposed == {"code": "楼栋编码", "name": "楼栋名称", "residents": "常住人口",
                        "aged_60_plus": "60岁以上", "grid_code": "所属网格编码"}


def test_given_pairs_win_and_gaps_are_named() -> None:
    assert mapping.parse_pairs(["code=WGBM", "name = WGMC"]) == {"code": "WGBM", "name": "WGMC"}
    with pytest.raises(InvalidInput, match="field=column"):
        mapping.parse_pairs(["code"])
    assert mapping.resolve(GRIDS, ["WGBM", "WGMC"], {"code": "WGBM", "name": "WGMC"}) == {
        "code": "WGBM", "name": "WGMC"}
    with pytest.raises(InvalidInput, match=r"--map name=列名"):
        mapping.resolve(GRIDS, ["WGBM", "X"], {"code": "WGBM"})
    with pytest.raises(InvalidInput, match="no column NOPE"):
        mapping.resolve(GRIDS, ["WGBM"], {"code": "NOPE"})
    with pytest.raises(InvalidInput, match="has no field colour"):
        mapping.resolve(GRIDS, ["WGBM"], {"colour": "WGBM"})


def test_values_are_converted_with_a_problem_each_when_they_cannot_be() -> None:
    source = _frame({"编码": ["B1", "B2", "B3"], "名称": ["一号楼", "二号楼", "三号楼"],
                     "人口": [120.0, "十", 7.5]}, [shapely.box(0, 0, 1, 1)] * 3)
    frame, problems = mapping.convert(BUILDINGS, source, {"code": "编码", "name": "名称",
                                                          "residents": "人口"})
    assert frame["residents"].tolist() == [120, None, None]
    assert [(p.row, p.key, p.code) for p in problems] == [(2, "B2", "not_a_number"),
                                                          (3, "B3", "not_an_integer")]
    codes = _frame({"c": [210103001001001.0, "2101030010010O1"], "n": ["a", "b"]},
                   [shapely.box(0, 0, 1, 1)] * 2)
    frame, problems = mapping.convert(GRIDS, codes, {"code": "c", "name": "n"})
    assert frame["code"].tolist() == ["210103001001001", None]  # a spreadsheet's number is a code
    assert [p.code for p in problems] == ["code_not_digits"]


def test_each_rule_on_text_names_its_rows_and_integer_columns_pass_as_they_are() -> None:
    box = shapely.box(0, 0, 1, 1)
    source = _frame({"c": ["B1", " B2 ", "B\x013", "B4", "B5"],
                     "n": ["一", "二", "三", "x" * 201, "五"],
                     "g": ["210103001001001", "", None, "2101030010010O1", "２１０"],
                     "h": [float("inf"), 1e30, 3.0, None, 4.0],
                     "r": [10, 20, 30, 40, 50]}, [box] * 5)
    frame, problems = mapping.convert(BUILDINGS, source, {
        "code": "c", "name": "n", "grid_code": "g", "households": "h", "residents": "r"})
    assert frame["code"].tolist() == ["B1", "B2", None, "B4", "B5"]
    assert frame["grid_code"].tolist() == ["210103001001001", None, None, None, None]
    assert frame["households"].tolist() == [None, None, 3, None, 4]
    assert frame["residents"].tolist() == [10, 20, 30, 40, 50]
    assert all(type(v) is int for v in frame["residents"])  # noqa: E721 (as psycopg sends them)
    assert [(p.row, p.field, p.code) for p in problems] == [
        (3, "code", "control_characters"), (4, "name", "too_long"),
        (4, "grid_code", "code_not_digits"), (5, "grid_code", "code_not_digits"),
        (1, "households", "not_a_number"), (2, "households", "not_a_number")]


def _checked(spec, columns, geoms, **rules):  # type: ignore[no-untyped-def]
    frame, problems = mapping.convert(spec, _frame(columns, geoms),
                                      {name: name for name in columns})
    return validation.check(spec, frame, validation.Rules(**rules))


BOWTIE = shapely.Polygon([(123.40, 41.70), (123.41, 41.71), (123.41, 41.70), (123.40, 41.71)])


def test_geometry_problems_are_reported_with_their_place() -> None:
    grid = shapely.box(123.40, 41.70, 123.41, 41.71)
    frame, problems = _checked(GRIDS, {
        "code": ["210103001001001", "210103001001002", "210103001001003", "210103001001004",
                 "210103001001005"],
        "name": ["a", "b", "c", "d", "e"]},
        [grid, shapely.Point(123.4, 41.7), BOWTIE, None,
         shapely.MultiPolygon([grid, shapely.box(123.5, 41.7, 123.51, 41.71)])],
        extent=SHENYANG)
    found = {p.key[-1]: p.code for p in problems}
    assert found == {"2": "wrong_geometry_type", "3": "invalid_geometry",
                     "4": "geometry_missing", "5": "wrong_geometry_type"}
    bowtie = next(p for p in problems if p.code == "invalid_geometry")
    assert bowtie.where is not None and bowtie.where.distance(shapely.Point(123.405, 41.705)) < 1e-9
    assert "--repair" in bowtie.zh
    assert frame.geometry.iloc[0].equals(grid) and frame.geometry.iloc[1:].isna().all()


def test_repair_mends_a_bowtie_where_the_layer_takes_its_parts() -> None:
    frame, problems = _checked(COMMUNITIES, {"code": ["210103001001"], "name": ["a"]},
                               [BOWTIE], repair=True)
    assert [(p.code, p.severity) for p in problems] == [("repaired", Severity.NOTE)]
    repaired = frame.geometry.iloc[0]
    assert repaired.geom_type == "MultiPolygon" and repaired.is_valid and len(repaired.geoms) == 2
    # A grid is one polygon: two triangles are not a grid, so the bow-tie stays refused.
    _, problems = _checked(GRIDS, {"code": ["210103001001001"], "name": ["a"]}, [BOWTIE],
                           repair=True)
    assert [p.code for p in errors(problems)] == ["invalid_geometry"]


def test_codes_counts_types_and_place_are_checked() -> None:
    square = shapely.box(123.40, 41.70, 123.401, 41.701)
    _, problems = _checked(BUILDINGS, {
        "code": ["B1", "B1", "B3", "B4"], "name": ["a", "b", None, "d"],
        "grid_code": ["210103001001001", "2101", None, None],
        "residents": [10, -1, 30_000, 5], "aged_60_plus": [20, None, None, 3]},
        [square, square, square, shapely.box(116.3, 39.9, 116.31, 39.91)], extent=SHENYANG)
    assert sorted((p.row, p.field, p.code) for p in problems) == [
        (1, "aged_60_plus", "counts_inconsistent"), (2, "code", "code_duplicate"),
        (2, "grid_code", "code_malformed"), (2, "residents", "negative_count"),
        (3, "name", "missing_value"), (3, "residents", "absurd_count"),
        (4, "geometry", "outside_city")]
    _, problems = _checked(FACILITIES, {"code": ["F1"], "type": ["spaceport"], "name": ["x"]},
                           [shapely.Point(123.4, 41.7)], facility_types={"elder_care_station"})
    assert [p.code for p in problems] == ["unknown_facility_type"]
    assert "elder_care_station" in problems[0].zh


def test_heights_are_dropped_with_a_note() -> None:
    frame, problems = _checked(FACILITIES, {"code": ["F1"], "type": ["park"], "name": ["x"]},
                               [shapely.Point(123.4, 41.7, 55.0)])
    assert [(p.code, p.severity) for p in problems] == [("flattened", Severity.NOTE)]
    assert not frame.geometry.iloc[0].has_z
