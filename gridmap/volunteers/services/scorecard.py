"""The volunteers' metrics of the monthly scorecards (考核), as a metric source for
:mod:`gridmap.scorecards`: tasks done and volunteer hours (志愿服务时长) per grid, community
and sub-district, with last month's values (one statement, ``volunteers/scorecard.sql``).

A task counts for the grid of the case or care visit it was published from, in the month it was
recorded done (Shenyang calendar months, as the cases'). Departments publish no tasks: their
cells stay empty (no row), never zero.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.volunteers.repositories import volunteers as repo

LEVELS = (codes.Level.GRID, codes.Level.COMMUNITY, codes.Level.SUBDISTRICT)
"""The levels with volunteer figures (a department has none)."""


def volunteer_scorecard(session: Session, *, level: str, previous: datetime, start: datetime,
                        end: datetime, as_of: datetime, area: str | None,
                        lang: str) -> list[dict[str, Any]]:
    """Per unit of ``level`` inside ``area``: tasks done and hours in the month and the month
    before (``prev_``); [] for a department."""
    del as_of, lang  # a done task is done; unit names are the territory's own
    if level not in LEVELS:
        return []
    return repo.scorecard(session, {"level": str(level), "width": codes.width(level),
                                    "area": area or "", "previous": previous, "start": start,
                                    "end": end})
