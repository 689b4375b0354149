"""The map-view rules: the one bbox parse (API and CLI) and what a zoom allows geometry."""

from __future__ import annotations

import pytest

from gridmap import viewport
from gridmap.errors import InvalidInput


def test_bbox_absent_or_empty_is_no_filter() -> None:
    assert viewport.parse_bbox(None) is None
    assert viewport.parse_bbox("") is None


def test_bbox_is_four_floats_in_order() -> None:
    assert viewport.parse_bbox("123.4,41.7,123.5,41.8") == (123.4, 41.7, 123.5, 41.8)
    assert viewport.parse_bbox("123.4,41.7,123.4,41.7") == (123.4, 41.7, 123.4, 41.7)  # a point


@pytest.mark.parametrize(("raw", "says"), [
    ("1,2,3", "minx,miny,maxx,maxy"),
    ("1,2,3,4,5", "minx,miny,maxx,maxy"),
    ("a,b,c,d", "four numbers"),
    ("123,41,124,95", "lat"),
    ("nan,41,124,42", "four numbers"),  # not a decimal: refused as one
    ("１２３,41,124,42", "four numbers"),  # full-width digits are no number here
    ("1_23,41,124,42", "four numbers"),
    ("124,42,123,41", "min must not exceed max"),
])
def test_bad_bbox_says_what_is_wrong(raw: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        viewport.parse_bbox(raw)


def test_tolerance_is_half_a_pixel_and_halves_per_zoom() -> None:
    assert viewport.tolerance_deg(0) == pytest.approx(360 / 256 / 2)
    for zoom in range(0, 20):
        assert viewport.tolerance_deg(zoom + 1) == pytest.approx(viewport.tolerance_deg(zoom) / 2)


def test_decimals_keep_a_tenth_of_a_pixel_within_one_to_seven() -> None:
    assert viewport.decimals(None) == viewport.EXPORT_DECIMALS == 7
    assert viewport.decimals(0) == 1
    assert viewport.decimals(16) == 6
    assert viewport.decimals(24) == 7
    for zoom in range(0, 25):
        assert 10.0 ** -viewport.decimals(zoom) <= max(viewport.tolerance_deg(zoom) * 0.2, 1e-7)
