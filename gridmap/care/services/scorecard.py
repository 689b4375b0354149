"""The care register's metrics of the monthly scorecards (考核), as a metric source for
:mod:`gridmap.scorecards`: visits done and zero reports on time per grid, community and
sub-district, with ranks and last month's values (one statement, ``care/scorecard.sql``).

- **Visits done** (走访完成率) = entries visited at least once in the month ÷ entries due a
  visit in the month: those on the register during the month, except ones closed in the month
  without a visit — the zero report's checklist (visited ÷ visited + explained + pending). An
  explanation excuses an entry from the report, not from the visit count.
- **Zero reports on time** (零报告按时率) = grids that filed the month's report by its deadline
  (:func:`gridmap.care.rules.report_deadline`: the end of the 5th of the next month) ÷ grids
  whose report is filed or whose deadline has passed at ``as_of`` (the cases' cohort view: a
  grid not yet due and not filed counts for nothing yet).

Departments visit no one and file no report: their cells stay empty (no row), never zero.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.care import rules
from gridmap.care.repositories import care as repo

LEVELS = (codes.Level.GRID, codes.Level.COMMUNITY, codes.Level.SUBDISTRICT)
"""The levels the care register has figures for (a department has none)."""


def care_scorecard(session: Session, *, level: str, previous: datetime, start: datetime,
                   end: datetime, as_of: datetime, area: str | None,
                   lang: str) -> list[dict[str, Any]]:
    """Per unit of ``level`` inside ``area``: visits due and done, zero reports due and on time,
    the two rates with ranks, and last month's (``prev_``) values; [] for a department."""
    del lang  # unit names are the territory's own
    if level not in LEVELS:
        return []
    month, prev_month = rules.this_month(start), rules.this_month(previous)
    return repo.scorecard(session, {
        "level": str(level), "width": codes.width(level), "area": area or "",
        "month": month, "prev_month": prev_month, "previous": previous, "start": start,
        "end": end, "as_of": as_of, "deadline": rules.report_deadline(month),
        "prev_deadline": rules.report_deadline(prev_month)})
