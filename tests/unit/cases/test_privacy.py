"""What of a resident's report the public may see: phone masking, snapped points, street only."""

from __future__ import annotations

import math

import pytest

from gridmap.cases.privacy import (
    PUBLIC_GRID_DEG,
    mask_phone,
    mask_phones_in,
    public_point,
    street_only,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("13812345678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("138\u30001234\u30005678", "138****5678"),  # ideographic spaces
    ("138－1234－5678", "138****5678"),  # full-width hyphens
    ("+86 138 1234 5678", "+86 138****5678"),
    ("+8613812345678", "+86 138****5678"),
    ("+86-138-1234-5678", "+86 138****5678"),
    ("008613812345678", "+86 138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("＋８６ １３８ １２３４ ５６７８", "+86 138****5678"),
    ("024-2345-6789", "024****6789"),
    ("(024) 2345 6789", "024****6789"),
    ("（024）23456789", "024****6789"),
    ("0411-8765432", "041****5432"),
    ("23456789", "234*6789"),
    ("2345-6789", "234*6789"),
])
def test_phone_variants_keep_the_first_three_and_last_four_digits(text: str, expected: str) -> None:
    assert mask_phones_in(text) == expected
    assert mask_phones_in(f"请联系{text}，谢谢") == f"请联系{expected}，谢谢"


@pytest.mark.parametrize("text", [
    "3号楼2单元楼道灯不亮", "2024-05-01 08:00 起停水", "共 120 户", "123456", "暖气 18 度",
    "41.8051, 123.4321",
])
def test_text_without_a_phone_is_left_alone(text: str) -> None:
    assert mask_phones_in(text) == text


def test_two_numbers_in_one_text_are_both_masked() -> None:
    text = "白天 138-1234-5678，晚上 024 2345 6789"
    assert mask_phones_in(text) == "白天 138****5678，晚上 024****6789"


@pytest.mark.parametrize(("phone", "expected"), [
    ("13812345678", "138****5678"), (" 138 1234 5678 ", "138****5678"), ("12345", "*****"),
    ("", ""), ("unknown", "*******"),
])
def test_mask_phone_field(phone: str, expected: str) -> None:
    assert mask_phone(phone) == expected


@pytest.mark.parametrize(("lon", "lat"), [
    (123.43217, 41.80513), (123.4325, 41.8), (-0.00024, 0.00026), (123.999999, 41.999751)])
def test_public_point_is_on_the_grid_and_within_half_a_cell(lon: float, lat: float) -> None:
    plon, plat = public_point(lon, lat)
    for shown, true in ((plon, lon), (plat, lat)):
        assert abs(shown - true) <= PUBLIC_GRID_DEG / 2 + 1e-12
        assert math.isclose(shown / PUBLIC_GRID_DEG, round(shown / PUBLIC_GRID_DEG), abs_tol=1e-9)
        assert shown == round(shown, 4)  # no float noise such as 41.80050000000001


def test_public_point_cells_are_about_fifty_metres_at_shenyang() -> None:
    metres_per_deg_lat = 111_320.0
    north_south = PUBLIC_GRID_DEG * metres_per_deg_lat
    east_west = north_south * math.cos(math.radians(41.8))
    assert 40 <= east_west <= north_south <= 60


@pytest.mark.parametrize(("address", "expected"), [
    ("大西路 5 号", "大西路"),
    ("和平北大街1号", "和平北大街"),
    ("沈河区大西路5号院3号楼2单元", "沈河区大西路"),
    ("十一纬路 36 号", "十一纬路"),
    ("北二马路三号", "北二马路"),
    ("五爱街", "五爱街"),
    ("青年大街，１８号", "青年大街"),
    ("3号楼2单元", ""),
    ("", ""),
])
def test_street_only_cuts_at_the_house_number(address: str, expected: str) -> None:
    assert street_only(address) == expected
