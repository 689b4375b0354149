"""The care register's rules as plain values and functions (no Flask, no database).

Who may see residents (:func:`may_see_residents`), the small-count suppression of the public
counts, the distance beyond which a visit is flagged, and the months of the zero report in the
city's time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.errors import InvalidInput

CITY_TZ = timezone(timedelta(hours=8))
"""Months start at local midnight (China Standard Time, no daylight saving)."""
CARE_ROLES = SUPERVISORS | {Role.GRID_WORKER}
"""Roles that may see the register of grids in their scope: the grid's worker and community,
sub-district and district staff over it. Department staff, planners, data officers and
administrators do not: they have no part in visiting residents (administrators read the audit
log of who did)."""
SMALL_COUNT = 5
"""Public counts below this are suppressed (shown as ``null`` with ``suppressed: true``)."""
FAR_M = 200.0
"""A visit logged further than this from the building is flagged ``far``: a phone's fix in a
city is good to tens of metres, a courtyard spans ~100 m."""
FALLBACK_INTERVAL_DAYS = 30
"""Days between visits for an entry whose reasons no rule names (rules are data: one may be
removed): the zero report's month, so such an entry is never silently never due."""
MAX_NAME, MAX_PHONE, MAX_CARER, MAX_UNIT, MAX_TEXT = 50, 20, 100, 20, 2000
REPORT_DUE_DAY = 5
"""A month's zero report is on time when filed by the end of this day of the following month,
city time (October's by 5 November 23:59:59 +08:00): the first days of a month finish the last
visits and explanations. The overview's report states and the scorecards' "zero reports on
time" both use :func:`report_deadline`."""
REPORT_STATES = ("reported", "reported_late", "late", "not_due")
"""A grid's report of a month at a moment: filed by the deadline, filed after it, not filed and
past it, not filed and not yet due."""
MAX_EXPLANATION = 500
"""Characters in a name, phone, carer, unit/household, note/findings, and an explanation (the
database CHECKs and column widths hold the same bounds)."""
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def may_see_residents(principal: Principal, grid_code: str) -> bool:
    """Whether ``principal`` may see the register's people in ``grid_code``."""
    return principal.has(*CARE_ROLES) and principal.covers(grid_code)


def suppressed(count: int) -> int | None:
    """``count`` as the public may see it: ``None`` when 1 … SMALL_COUNT-1 (0 tells nothing)."""
    return None if 0 < count < SMALL_COUNT else count


def parse_month(raw: str, *, name: str = "month") -> date:
    """``YYYY-MM`` (years 2000-2100) as the month's first day.

    Raises
    ------
    InvalidInput
        Anything else.
    """
    found = _MONTH.match(raw.strip())
    if found is None or not 2000 <= int(found[1]) <= 2100 or not 1 <= int(found[2]) <= 12:
        raise InvalidInput(f"参数 {name} 须为 YYYY-MM 格式的月份 ('{name}' must be a month "
                           "YYYY-MM)")
    return date(int(found[1]), int(found[2]), 1)


def this_month(now: datetime) -> date:
    """The first day of the city's month at ``now``."""
    local = now.astimezone(CITY_TZ)
    return date(local.year, local.month, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in the city's time."""
    start = datetime(month.year, month.month, 1, tzinfo=CITY_TZ)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=CITY_TZ)


def report_deadline(month: date) -> datetime:
    """The instant ``month``'s zero report becomes late (start of day REPORT_DUE_DAY + 1 of the
    next month, city time)."""
    return month_bounds(month)[1] + timedelta(days=REPORT_DUE_DAY)



def parse_instant(raw: str, *, name: str = "visited_at") -> datetime:
    """An ISO 8601 instant with its offset (2026-11-30T09:30:00+08:00).

    Raises
    ------
    InvalidInput
        Not an instant, or one without an offset.
    """
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or not 2000 <= value.year <= 2100:
        raise InvalidInput(f"参数 {name} 须为带时区的 ISO 8601 时间 ('{name}' must be an ISO 8601 "
                           "instant with an offset)")
    return value
