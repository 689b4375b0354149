"""The request-parsing layer's rules on their own: strict types, ASCII digits in range, dates in
range, text without control characters, bounded messages (no request needed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gridmap.errors import InvalidInput
from gridmap.web import params


@pytest.mark.parametrize("raw", ["²", "１２３", "1_0", " ", "1.5", "9" * 5000, str(2**63), "abc",
                                 True, [1], {"a": 1}])
def test_integer_refuses_what_is_no_ascii_integer_in_range(raw: Any) -> None:
    with pytest.raises(InvalidInput):
        params.integer({"n": raw}, "n", default=0, lo=0, hi=params.MAX_ID)


@pytest.mark.parametrize(("raw", "value"), [("12", 12), (12, 12), (" 7 ", 7),
                                            (str(params.MAX_ID), params.MAX_ID)])
def test_integer_takes_ascii_digits_and_json_integers(raw: Any, value: int) -> None:
    assert params.integer({"n": raw}, "n", default=0, lo=0, hi=params.MAX_ID) == value


@pytest.mark.parametrize("raw", ["Infinity", "1e400", "nan", "１.５", "1_0.5", [1.0], "1e99999"])
def test_number_refuses_non_finite_and_non_ascii(raw: Any) -> None:
    with pytest.raises(InvalidInput):
        params.number({"x": raw}, "x")


def test_number_takes_json_numbers_and_decimals() -> None:
    assert params.number({"x": 123.5}, "x") == 123.5
    assert params.number({"x": "-1.25e2"}, "x") == -125.0


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01",
                                 "２０２４-01-01", "20240101", "2024-02-30"])
def test_day_refuses_dates_outside_the_sane_range_or_form(raw: str) -> None:
    with pytest.raises(InvalidInput):
        params.day({"d": raw}, "d")


def test_day_takes_the_ends_of_the_range() -> None:
    assert params.day({"d": "2000-01-01"}, "d") == date(2000, 1, 1)
    assert params.day({"d": "2100-12-31"}, "d") == date(2100, 12, 31)
    assert params.day({}, "d") is None


@pytest.mark.parametrize("raw", ["a\x00b", "a\x1bb", "a\x7fb", "a\ud800b", ["a"], {"a": 1}, 1])
def test_text_refuses_control_characters_and_non_strings(raw: Any) -> None:
    with pytest.raises(InvalidInput):
        params.text({"t": raw}, "t")


def test_free_text_keeps_newlines_and_tabs_but_one_line_text_does_not() -> None:
    assert params.text({"t": "a\nb\tc"}, "t", multiline=True) == "a\nb\tc"
    with pytest.raises(InvalidInput):
        params.text({"t": "a\nb"}, "t")


def test_text_has_a_length_limit() -> None:
    assert params.text({"t": "x" * 10}, "t", max_chars=10) == "x" * 10
    with pytest.raises(InvalidInput, match="10"):
        params.text({"t": "x" * 11}, "t", max_chars=10)


@pytest.mark.parametrize("raw", ["xyz", "2", ["1"]])
def test_flag_refuses_unknown_values(raw: Any) -> None:
    with pytest.raises(InvalidInput):
        params.flag({"overdue": raw}, "overdue")


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("TRUE", True), ("yes", True),
                                            (True, True), ("0", False), ("", False),
                                            (False, False), (None, False)])
def test_flag_reads_yes_and_no(raw: Any, value: bool) -> None:
    assert params.flag({"overdue": raw}, "overdue") is value


def test_messages_repeat_at_most_a_bounded_piece_of_the_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        params.choice({"level": "长" * 10_000}, "level", ("grid", "community"))
    assert "长" * (params.SHOWN + 1) not in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        params.number({"lon": "9" * 10_000}, "lon")
    assert "9" * (params.SHOWN * 10 + 1) not in caught.value.message
