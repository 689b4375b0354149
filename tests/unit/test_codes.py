"""The area-code rule: widths, levels, parents and the messages of bad codes."""

from __future__ import annotations

import pytest

from gridmap import codes
from gridmap.codes import Level
from gridmap.errors import InvalidInput

GRID = "210103015003001"  # a grid of 沈河区: district 210103, sub-district …015, community …003


def test_widths_grow_by_three_below_the_district() -> None:
    widths = [codes.width(level) for level in codes.LEVELS]
    assert widths == [6, 9, 12, 15]


@pytest.mark.parametrize(("code", "level"), [
    ("210103", Level.DISTRICT), ("210103015", Level.SUBDISTRICT),
    ("210103015003", Level.COMMUNITY), (GRID, Level.GRID),
    ("21010", None), ("2101030150", None), ("21010a", None), ("２１０１０３", None), ("", None)])
def test_level_of(code: str, level: Level | None) -> None:
    assert codes.level_of(code) is level


def test_parents_and_ancestors_are_prefixes() -> None:
    chain = [GRID]
    while (up := codes.parent(chain[-1])) is not None:
        chain.append(up)
    assert chain == [GRID, GRID[:12], GRID[:9], GRID[:6]]
    assert codes.ancestor(GRID, "subdistrict") == GRID[:9]
    assert codes.ancestor(GRID[:9], "grid") is None
    assert codes.parent("nonsense") is None


def test_child_levels() -> None:
    assert [codes.child_level(lvl) for lvl in codes.LEVELS] == [
        Level.SUBDISTRICT, Level.COMMUNITY, Level.GRID, None]


def test_parse_accepts_and_names_the_field_when_it_refuses() -> None:
    assert codes.parse(GRID, "grid") == GRID
    with pytest.raises(InvalidInput) as exc:
        codes.parse("21010301500300", "grid", field="grid_code")
    assert "grid_code" in exc.value.message and "15" in exc.value.message


def test_parse_area_takes_any_area_level_but_not_a_grid() -> None:
    assert codes.parse_area(GRID[:9]) == (Level.SUBDISTRICT, GRID[:9])
    with pytest.raises(InvalidInput, match="6/9/12"):
        codes.parse_area(GRID)


def test_parse_level_lists_the_choices() -> None:
    assert codes.parse_level("community") is Level.COMMUNITY
    with pytest.raises(InvalidInput, match="district, subdistrict"):
        codes.parse_level("street")


def test_nests() -> None:
    assert codes.nests(GRID[:6], GRID) and codes.nests(GRID, GRID)
    assert not codes.nests("210104", GRID)


def test_area_filter_takes_the_finest_code_given() -> None:
    area = codes.area_filter({"district": GRID[:6], "community": GRID[:12], "grid": "ignored"})
    assert area == codes.AreaFilter(district=GRID[:6], community=GRID[:12])
    assert area.prefix() == GRID[:12] and area.level() is Level.COMMUNITY


def test_no_area_filter_and_empty_values_are_no_filter() -> None:
    for args in ({}, {"district": "", "subdistrict": "", "community": ""}):
        area = codes.area_filter(args)
        assert area == codes.AreaFilter() and area.prefix() is None and area.level() is None


@pytest.mark.parametrize(("name", "raw", "width"), [
    ("district", "21010", 6), ("subdistrict", GRID[:12], 9), ("community", "21010301500x", 12),
    ("community", "２１０１０３０１５００３", 12),  # full-width digits are digits, but not a code
])
def test_area_filter_names_the_parameter_and_its_width(name: str, raw: str, width: int) -> None:
    with pytest.raises(InvalidInput) as exc:
        codes.area_filter({name: raw})
    assert name in exc.value.message and str(width) in exc.value.message


def test_area_filter_codes_must_nest() -> None:
    with pytest.raises(InvalidInput, match="do not nest"):
        codes.area_filter({"district": "210104", "community": GRID[:12]})
    with pytest.raises(InvalidInput, match="do not nest"):
        codes.area_filter({"subdistrict": GRID[:9], "community": "210103016003"})
