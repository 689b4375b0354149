"""OpenStreetMap buildings and facilities: which features, under which code, name and type, and
what the tag mapping file may say."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely
from osm_extract import Extract, square

from gridmap.errors import InvalidInput
from gridmap.exchange import osm_features as osm

X, Y = 123.40, 41.80
"""Somewhere in 沈河区."""


def _layers(path: Path) -> list[tuple[str, osm.gpd.GeoDataFrame]]:
    return [(layer, osm.read_layer(path, layer)) for layer in ("points", "multipolygons")]


def test_buildings_keep_their_osm_id_name_and_address_and_skip_what_is_no_building(
        tmp_path: Path) -> None:
    e = Extract()
    e.way(100, square(X, Y, 0.0002), {"building": "residential", "building:levels": "6",
                                       "addr:street": "团结路", "addr:housenumber": "3号"})
    e.way(101, square(X + 0.001, Y, 0.0002), {"building": "no", "name": "不是楼"})
    e.way(102, square(X + 0.002, Y, 0.0002), {"building": "garage"})
    e.way(103, square(X + 0.003, Y, 0.0002), {"landuse": "residential"})
    e.way(104, square(X + 0.004, Y, 0.0002), {"building": "yes", "name": "A座"})
    # A relation of two outers: the larger one is kept.
    e.way(105, square(X, Y + 0.001, 0.0003), {})
    e.way(106, square(X + 0.001, Y + 0.001, 0.0001), {})
    e.relation(7, [105, 106], {"building": "apartments"})
    extract = osm.buildings(osm.read_layer(e.write(tmp_path / "b.osm"), "multipolygons"),
                            osm.load_tags())
    got = {r.code: r for r in extract.frame.itertuples()}
    assert set(got) == {"osm:w100", "osm:w104", "osm:r7"}
    assert got["osm:w100"].address == "团结路3号" and got["osm:w100"].name == "团结路3号"
    assert got["osm:w104"].name == "A座"
    assert got["osm:r7"].name == "osm:r7" and got["osm:r7"].geometry.geom_type == "Polygon"
    assert got["osm:r7"].geometry.area == pytest.approx(0.0003 ** 2)
    assert extract.parts_dropped == 1
    assert extract.skipped == {"building=no": 1, "building=garage": 1}


def test_facilities_take_the_first_rule_they_match(tmp_path: Path) -> None:
    e = Extract()
    e.node(X, Y, amenity="social_facility", **{"social_facility:for": "senior"}, name="幸福养老站",
           capacity="20", opening_hours="Mo-Fr 08:00-17:00")
    e.node(X + 0.001, Y, amenity="social_facility", social_facility="day_care",
           **{"social_facility:for": "senior"})
    e.node(X + 0.002, Y, amenity="bench")
    e.node(X + 0.003, Y, highway="bus_stop", name="社区卫生服务中心")
    e.node(X + 0.004, Y, amenity="community_centre", name="万莲社区党群服务中心", capacity="many")
    e.way(200, square(X, Y + 0.001, 0.0004), {"leisure": "park", "name": "街角公园"})  # ~1,500 m²
    e.way(201, square(X, Y + 0.002, 0.004), {"leisure": "park", "name": "万泉公园"})  # ~15 ha
    e.way(202, square(X, Y + 0.01, 0.0002), {"building": "yes", "name": "社区卫生服务站"})
    extract = osm.facilities(_layers(e.write(tmp_path / "f.osm")), osm.load_tags(),
                             {"day_care_centre": "日间照料中心"})
    got = {r.code: r for r in extract.frame.itertuples()}
    assert {c: r.type for c, r in got.items()} == {
        "osm:n1": "elder_care_station", "osm:n2": "day_care_centre",
        "osm:n5": "party_service_station", "osm:w200": "pocket_park",
        "osm:w202": "health_station"}
    assert got["osm:n1"].capacity == 20 and got["osm:n1"].hours == "Mo-Fr 08:00-17:00"
    assert got["osm:n2"].name == "日间照料中心"  # unnamed: called by its type
    assert pd.isna(got["osm:n5"].capacity)  # "many" is no number: left empty, not refused
    park = got["osm:w200"].geometry
    assert park.geom_type == "Point" and shapely.Polygon(square(X, Y + 0.001, 0.0004)).contains(park)
    # The bus stop named after a clinic is ignored, not counted; the big park and the bench are.
    assert extract.skipped == {"pocket_park: > 10000 m²": 1, "amenity=bench": 1}


def test_address_joins_a_chinese_street_without_a_space() -> None:
    assert osm.address({"addr:street": "团结路", "addr:housenumber": "3"}) == "团结路3"
    assert osm.address({"addr:street": "Main St", "addr:housenumber": "3"}) == "Main St 3"
    assert osm.address({"addr:full": "沈河区团结路3号", "addr:street": "x"}) == "沈河区团结路3号"
    assert osm.address({}) is None


def test_the_shipped_mapping_covers_every_facility_type() -> None:
    assert osm.load_tags().types == {
        "party_service_station", "elder_care_station", "home_care_centre", "day_care_centre",
        "pocket_park", "mediation_point", "charity_canteen", "health_station",
        "community_school", "employment_service"}


@pytest.mark.parametrize(("text", "said"), [
    ("[buildings\n", "cannot be read"),
    ("[buildings]\nskip = 'no'\n", r"needs \[buildings\]"),
    ("[[facilities.rule]]\ntags = {amenity = 'x'}\n", "rule 1 needs a type"),
    ("[[facilities.rule]]\ntype = 'pocket_park'\n", "matches everything"),
    ("[[facilities.rule]]\ntype = 'pocket_park'\ntags = {leisure = 1}\n", "a value is a text"),
    ("[[facilities.rule]]\ntype = 'pocket_park'\ntags = {leisure = 'park'}\nmax_area_m2 = -1\n",
     "max_area_m2 is a positive number"),
    ("[[facilities.rule]]\ntype = 'pocket_park'\ntag = {leisure = 'park'}\n", "unknown keys"),
])
def test_a_bad_mapping_file_is_refused_naming_the_problem(tmp_path: Path, text: str,
                                                          said: str) -> None:
    path = tmp_path / "tags.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=said):
        osm.load_tags(path)


def test_a_rule_accepts_a_list_of_values_or_any_value() -> None:
    rule = osm.Rule("health_station", {"healthcare": ("centre", "clinic"), "name": ()})
    assert rule.matches_tags({"healthcare": "clinic", "name": "x"})
    assert not rule.matches_tags({"healthcare": "clinic"})
    assert not rule.matches_tags({"healthcare": "hospital", "name": "x"})
