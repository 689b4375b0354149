"""The care register's pure rules: who sees residents, suppression, months, instants."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gridmap.access import PUBLIC, Principal, Role
from gridmap.care import rules
from gridmap.errors import InvalidInput

GRID = "210103001001001"


@pytest.mark.parametrize(("principal", "sees"), [
    (Principal(role=Role.GRID_WORKER, grids=frozenset({GRID})), True),
    (Principal(role=Role.GRID_WORKER, grids=frozenset({"210103001001002"})), False),
    (Principal(role=Role.COMMUNITY_STAFF, area_code=GRID[:12]), True),
    (Principal(role=Role.COMMUNITY_STAFF, area_code="210103001002"), False),
    (Principal(role=Role.SUBDISTRICT_STAFF, area_code=GRID[:9]), True),
    (Principal(role=Role.DISTRICT_CENTRE, area_code=GRID[:6]), True),
    (Principal(role=Role.DEPARTMENT_STAFF, grids=frozenset({GRID}), department_code="housing"),
     False),
    (Principal(role=Role.PLANNER, area_code=GRID[:6]), False),
    (Principal(role=Role.DATA_OFFICER), False),
    (Principal(role=Role.ADMIN), False),
    (PUBLIC, False),
])
def test_only_care_staff_whose_scope_holds_the_grid_see_residents(principal: Principal,
                                                                  sees: bool) -> None:
    assert rules.may_see_residents(principal, GRID) is sees


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, None), (4, None), (5, 5), (120, 120)])
def test_small_counts_are_suppressed(count: int, shown: int | None) -> None:
    assert rules.suppressed(count) == shown


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "1999-12", "2026-1", "２０２６-01", "",
                                 "2026-01-01", "9999-12"])
def test_bad_months_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        rules.parse_month(raw)


def test_months_are_the_citys() -> None:
    assert rules.parse_month(" 2026-02 ") == date(2026, 2, 1)
    # 16:30 UTC on 30 November is already 1 December in Shenyang.
    assert rules.this_month(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == date(2026, 12, 1)
    start, end = rules.month_bounds(date(2026, 12, 1))
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["2026-11-30T09:30:00", "yesterday", "0001-01-01T00:00:00+08:00"])
def test_instants_need_an_offset_and_a_sane_year(raw: str) -> None:
    with pytest.raises(InvalidInput):
        rules.parse_instant(raw)


@pytest.mark.parametrize(("month", "late_from"), [
    (date(2026, 10, 1), datetime(2026, 11, 5, 16, 0, tzinfo=UTC)),   # 6 Nov 00:00 in Shenyang
    (date(2026, 12, 1), datetime(2027, 1, 5, 16, 0, tzinfo=UTC)),    # across the year
    (date(2028, 1, 1), datetime(2028, 2, 5, 16, 0, tzinfo=UTC)),
])
def test_a_months_zero_report_is_late_after_the_5th_of_the_next(month: date,
                                                               late_from: datetime) -> None:
    from gridmap.care.rules import report_deadline

    assert report_deadline(month) == late_from
