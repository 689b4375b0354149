"""The OGC API's pure parts: query parameters, CQL2 parsing (pygeofilter, with S_DWITHIN),
cursors and CRS references."""

from __future__ import annotations

import pytest
from pygeofilter import ast

from gridmap.errors import InvalidInput
from gridmap.ogc import cql2, crs_refs, cursor, query

OFFERED = crs_refs.offered(4550)


def test_limit_default_clamped_and_refused() -> None:
    assert query.limit({}) == (query.DEFAULT_LIMIT, None)
    assert query.limit({"limit": "25"}) == (25, None)
    assert query.limit({"limit": str(query.MAX_LIMIT + 1)}) == (query.MAX_LIMIT, query.MAX_LIMIT + 1)
    for bad in ("0", "-1", "1.5", "１２", "x"):
        with pytest.raises(InvalidInput):
            query.limit({"limit": bad})


def test_bbox_checks_order_and_numbers() -> None:
    assert query.bbox({"bbox": "1,2,3,4"}) == (1, 2, 3, 4)
    assert query.bbox({"bbox": "1,2,0,3,4,9"}) == (1, 2, 3, 4)
    for bad in ("3,2,1,4", "1,4,3,2", "1,2,3", "1,2,3,nan", "1,2,3,inf", "a,b,c,d"):
        with pytest.raises(InvalidInput):
            query.bbox({"bbox": bad})


def test_datetime_instants_and_intervals() -> None:
    start, end = query.interval({"datetime": "2024-01-01T00:00:00Z/.."}) or (None, None)
    assert start is not None and start.year == 2024 and end is None
    with pytest.raises(InvalidInput):
        query.interval({"datetime": "2025-01-01T00:00:00Z/2024-01-01T00:00:00Z"})
    with pytest.raises(InvalidInput):
        query.interval({"datetime": "yesterday"})


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(InvalidInput, match="colour"):
        query.items_query({"colour": "red"}, properties=frozenset({"name"}))
    found = query.items_query({"name": "x", "sortby": "-name,+code"}, properties=frozenset({"name"}))
    assert found.equal == (("name", "x"),) and found.sortby == (("name", True), ("code", False))


@pytest.mark.parametrize(("text", "kind"), [
    ("name = 'x'", ast.Equal), ("residents <> 3", ast.NotEqual), ("residents < 3", ast.LessThan),
    ("residents >= 3", ast.GreaterEqual), ("name LIKE 'x%'", ast.Like),
    ("code IN ('a', 'b')", ast.In), ("residents BETWEEN 1 AND 4", ast.Between),
    ("name IS NULL", ast.IsNull), ("NOT (name = 'x')", ast.Not),
    ("name = 'x' AND residents > 1", ast.And), ("name = 'x' OR residents > 1", ast.Or),
    ("S_INTERSECTS(geometry, POINT(123.4 41.8))", ast.GeometryIntersects),
    ("S_WITHIN(geometry, BBOX(123, 41, 124, 42))", ast.GeometryWithin),
    ("S_DWITHIN(geometry, POINT(123.4 41.8), 500)", ast.DistanceWithin),
    ("S_DWITHIN(geometry, POINT(123.4 41.8), 500, meters)", ast.DistanceWithin),
])
def test_cql2_text_operators(text: str, kind: type) -> None:
    assert isinstance(cql2.parse(text, "cql2-text"), kind)


@pytest.mark.parametrize(("doc", "kind"), [
    ('{"op": "=", "args": [{"property": "name"}, "x"]}', ast.Equal),
    ('{"op": "between", "args": [{"property": "residents"}, 1, 4]}', ast.Between),
    ('{"op": "in", "args": [{"property": "code"}, ["a", "b"]]}', ast.In),
    ('{"op": "isNull", "args": [{"property": "name"}]}', ast.IsNull),
    ('{"op": "and", "args": [{"op": "s_dwithin", "args": [{"property": "geometry"}, '
     '{"type": "Point", "coordinates": [123.4, 41.8]}, 100]}, '
     '{"op": "like", "args": [{"property": "name"}, "x%"]}]}', ast.And),
])
def test_cql2_json_operators(doc: str, kind: type) -> None:
    assert isinstance(cql2.parse(doc, "cql2-json"), kind)


def test_cql2_json_bbox_is_minx_miny_maxx_maxy() -> None:
    node = cql2.parse('{"op": "s_intersects", "args": [{"property": "geometry"}, '
                      '{"bbox": [1, 2, 3, 4]}]}', "cql2-json")
    assert node.rhs.geometry["coordinates"][0][2] == [3, 4]


@pytest.mark.parametrize("bad", ["name = ", "name = 'x' AND (", "S_DWITHIN(geometry, 5)", "))"])
def test_malformed_cql2_text_gives_the_position(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"line 1, column \d+"):
        cql2.parse(bad, None)


@pytest.mark.parametrize("bad", ['{"op": "=",', '{"op": "nope", "args": []}', "[]", '{"op": 1}'])
def test_malformed_cql2_json_is_a_400(bad: str) -> None:
    with pytest.raises(InvalidInput):
        cql2.parse(bad, "cql2-json")


def test_unknown_filter_lang() -> None:
    with pytest.raises(InvalidInput, match="filter-lang"):
        cql2.parse("name = 'x'", "ecql")


def test_cursor_round_trip_and_forgeries() -> None:
    token = cursor.Cursor(("楼", 12), backward=True).encode()
    assert cursor.decode(token, arity=2) == cursor.Cursor(("楼", 12), True)
    for bad in ("", "!!!", "e30", token + "x" * 3000):
        with pytest.raises(InvalidInput):
            cursor.decode(bad, arity=2)
    with pytest.raises(InvalidInput):
        cursor.decode(token, arity=1)  # another sort order's cursor


def test_crs_references() -> None:
    assert crs_refs.parse(None, OFFERED, "crs") == crs_refs.DEFAULT
    wgs = crs_refs.parse("http://www.opengis.net/def/crs/EPSG/0/4326", OFFERED, "crs")
    assert wgs.lat_lon and wgs.srid == 4326 and not wgs.projected
    cgcs = crs_refs.parse("[EPSG:4490]", OFFERED, "crs")
    assert cgcs.lat_lon and cgcs.srid == 4326
    gk = crs_refs.parse("EPSG:4550", OFFERED, "crs")
    assert gk.projected and not gk.lat_lon and gk.decimals == 3
    with pytest.raises(InvalidInput, match="EPSG/0/4550"):
        crs_refs.parse("EPSG:3857", OFFERED, "bbox-crs")


def test_gauss_kruger_zone_comes_from_the_data() -> None:
    assert [c.epsg for c in crs_refs.offered(4551)][-1] == 4551
