"""The case part of a monthly scorecard (考核) in one set-based query.

For every unit of a level inside an area — grids, communities, sub-districts, or departments —
the cases reported in the month and in the month before, counted with the dashboard's flags
(:func:`gridmap.cases.repositories.stats.case_flags`, one definition) per unit and month in a
CTE, the two months joined side by side on the unit, then the rates of both months and, with
``rank()`` windows over the units shown, the rank of each ranked rate this month and last.
Units without a case are listed with zeros (and rates of None, which are not ranked).

The scan is one range of ``created_at`` (two months) on ``ix_case_created_at`` narrowed by the
area's indexed code column; the units come from their own small tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from gridmap.cases.repositories.scope import in_area
from gridmap.cases.repositories.stats import (
    COUNT_COLUMNS,
    DEPARTMENT,
    UNIT_COLUMN,
    case_aggregates,
    case_flags,
)
from gridmap.codes import Level
from gridmap.models import GRID_EVER, Case, Community, Department, Subdistrict

SCORECARD_LEVELS: tuple[str, ...] = (Level.GRID, Level.COMMUNITY, Level.SUBDISTRICT, DEPARTMENT)
"""The levels a scorecard ranks, as issue 13 lists them (districts would be one more entry:
UNIT_COLUMN and a units query for them are all it needs)."""
EXTRA_COUNTS = ("reopened",)
"""Counts of the scorecard beyond the dashboard's: valid cases reopened at least once after a
dissatisfied rating (``case.reopen_count > 0``)."""
COMPARED_COUNTS = ("cases", "valid", "reopened")
"""The counts whose last month's value comes with each row (``prev_<count>``)."""


@dataclass(frozen=True)
class ScorecardQuery:
    """One level's scorecard: the month ``start`` ≤ created_at < ``end`` and the month before it
    (from ``previous``), the units inside ``area`` (None: the city), figures as at ``as_of``.

    ``rates``: rate name → (numerator, denominator) among the counts; ``ascending``: the rates
    where less is better (ranked from the lowest).
    """

    level: str
    previous: datetime
    start: datetime
    end: datetime
    as_of: datetime
    area: str | None
    rates: Mapping[str, tuple[str, str]]
    ascending: frozenset[str] = frozenset()


def _in(code: Any, area: str | None) -> ColumnElement[bool]:
    """Unit codes inside ``area`` (a prefix: codes nest by their digits)."""
    return true() if area is None else func.left(code, len(area)) == area


def _units(q: ScorecardQuery, *, lang: str) -> Any:
    """The peers: every unit of the level inside the area (grids: those alive in the month)."""
    if q.level == DEPARTMENT:
        name = Department.name_en if lang == "en" else Department.name_zh
        stmt = select(Department.code.label("code"), name.label("name"))
    elif q.level == Level.GRID:
        alive = or_(GRID_EVER.c.retired_at.is_(None), GRID_EVER.c.retired_at >= q.start)
        stmt = select(GRID_EVER.c.code.label("code"), GRID_EVER.c.name.label("name")).where(
            alive, _in(GRID_EVER.c.code, q.area))
    else:
        table = Community if q.level == Level.COMMUNITY else Subdistrict
        stmt = select(table.code.label("code"), table.name.label("name")).where(
            _in(table.code, q.area))
    return stmt.subquery("units")


def _counts(q: ScorecardQuery) -> Any:
    """Counts per unit and month (m = 1 this month, 0 the month before), from one scan."""
    column = UNIT_COLUMN[q.level]
    where = [Case.created_at >= q.previous, Case.created_at < q.end, column.is_not(None)]
    if q.area is not None:
        where.append(in_area(q.area))
    # MATERIALIZED: when inlined, PostgreSQL ran the last-rating subquery once per FILTER
    # that reads it (rated, satisfied): twice per rated case.
    flags = (select(column.label("unit"), cast(Case.created_at >= q.start, Integer).label("m"),
                    *case_flags(q.as_of), (Case.reopen_count > 0).label("reopened"))
             .where(*where).cte("flags").prefix_with("MATERIALIZED"))
    reopened = func.count().filter(flags.c.valid, flags.c.reopened).label("reopened")
    aggregates = [a for a in case_aggregates(flags) if a.name != "median_hours"]
    return (select(flags.c.unit, flags.c.m, *aggregates, reopened)
            .group_by(flags.c.unit, flags.c.m).cte("counts"))


def _rate(num: Any, den: Any) -> ColumnElement[Any]:
    return cast(num, Float) / cast(func.nullif(den, 0), Float)


def _ranked(rate: ColumnElement[Any], *, ascending: bool, name: str) -> ColumnElement[Any]:
    """The unit's rank on ``rate`` among all units shown (None when it has no rate); ties share
    a rank (``rank()``: 1, 1, 3)."""
    order = rate.asc() if ascending else rate.desc()
    return case((rate.is_not(None), func.rank().over(order_by=[rate.is_(None), order])),
                else_=null()).label(name)


def scorecard_rows(session: Session, q: ScorecardQuery, *, lang: str) -> list[dict[str, Any]]:
    """One row per unit: code, name, every count and rate, ``rank_<rate>``, and
    ``prev_<figure>`` (last month's value) of the rates, ranks and :data:`COMPARED_COUNTS`;
    ordered by code.

    Each unit's month and previous month are joined side by side (one row per unit, the counts
    computed once in a CTE), so each rank is one window over the units, for each month."""
    units, counts = _units(q, lang=lang), _counts(q)
    this, last = counts.alias("this"), counts.alias("last")
    names = [*COUNT_COLUMNS, *EXTRA_COUNTS]
    joined = (select(units.c.code, units.c.name,
                     *(func.coalesce(this.c[n], 0).label(n) for n in names),
                     *(func.coalesce(last.c[n], 0).label(f"last_{n}") for n in names))
              .select_from(units
                           .outerjoin(this, and_(this.c.unit == units.c.code, this.c.m == 1))
                           .outerjoin(last, and_(last.c.unit == units.c.code, last.c.m == 0)))
              .subquery("joined"))
    columns: list[ColumnElement[Any]] = [
        joined.c.code, joined.c.name, *(joined.c[n] for n in names),
        *(joined.c[f"last_{n}"].label(f"prev_{n}") for n in COMPARED_COUNTS)]
    for r, (num, den) in q.rates.items():
        now_rate = _rate(joined.c[num], joined.c[den])
        prev_rate = _rate(joined.c[f"last_{num}"], joined.c[f"last_{den}"])
        up = r in q.ascending
        columns += [now_rate.label(r), prev_rate.label(f"prev_{r}"),
                    _ranked(now_rate, ascending=up, name=f"rank_{r}"),
                    _ranked(prev_rate, ascending=up, name=f"prev_rank_{r}")]
    stmt = select(*columns).order_by(joined.c.code)
    return [dict(row) for row in session.execute(stmt).mappings()]
