"""The case metrics of the monthly scorecards (考核), as a metric source for
:mod:`gridmap.scorecards`: cases received, responded on time, resolved on time, satisfaction and
reopened per unit, with ranks and last month's values (one query,
:mod:`gridmap.cases.repositories.scorecard`).

The rates are the dashboard's (:data:`gridmap.cases.services.stats.RATES`, same numerators and
denominators, same cohort view: a month's cases as they stand at ``as_of``); ``reopen_rate`` =
``reopened / valid`` is the one the scorecard adds, and it is ranked from the lowest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gridmap.cases.repositories import scorecard as repo
from gridmap.cases.repositories.scorecard import SCORECARD_LEVELS, ScorecardQuery
from gridmap.cases.services.stats import RATES

__all__ = ["CASE_RATES", "LOWER_IS_BETTER", "SCORECARD_LEVELS", "case_scorecard"]

CASE_RATES: dict[str, tuple[str, str]] = {
    name: RATES[name]
    for name in ("on_time_response_rate", "on_time_resolution_rate", "satisfaction_rate")
} | {"reopen_rate": ("reopened", "valid")}
"""The rates a scorecard shows and ranks (name → numerator, denominator)."""
LOWER_IS_BETTER = frozenset({"reopen_rate"})


def case_scorecard(session: Session, *, level: str, previous: datetime, start: datetime,
                   end: datetime, as_of: datetime, area: str | None,
                   lang: str) -> list[dict[str, Any]]:
    """Per unit of ``level`` inside ``area``: counts, rates, ranks and last month's values."""
    q = ScorecardQuery(level=level, previous=previous, start=start, end=end, as_of=as_of,
                       area=area, rates=CASE_RATES, ascending=LOWER_IS_BETTER)
    return repo.scorecard_rows(session, q, lang=lang)
