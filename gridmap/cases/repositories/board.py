"""The case board's query: any combination of filters, overdue cases first, keyset pages.

Two sections, each read with an index and a keyset (never OFFSET): first the overdue cases (not
yet resolved, past their resolution deadline: earliest deadline first, via the partial index on
unresolved cases), then every other case, newest first (via the per-filter (column, created_at,
id) indexes). "Overdue" is judged at one instant, ``as_of``, carried in the cursor so that
paging through the board never skips or repeats a case.

Every query is limited to the reader's :class:`~gridmap.access.CaseScope` (see
:mod:`gridmap.cases.repositories.scope`), whatever the filters ask for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, and_, func, not_, select, tuple_
from sqlalchemy.orm import Session

from gridmap.access import CaseScope
from gridmap.cases.deadlines import LOCAL_UTC_OFFSET
from gridmap.cases.repositories.scope import case_condition
from gridmap.cases.workflow import UNRESOLVED_STATES, state_values
from gridmap.models import Case, CaseCategory, Department


@dataclass(frozen=True)
class BoardFilter:
    """Validated filters; codes are official codes, dates are local (UTC+8) days."""

    states: tuple[str, ...] = ()
    category: str | None = None
    grid: str | None = None
    community: str | None = None
    subdistrict: str | None = None
    district: str | None = None
    department: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue_only: bool = False


@dataclass(frozen=True)
class Keyset:
    """Where the previous page ended: section 1 (overdue) or 2 (the rest), key and id."""

    section: int
    key: datetime
    id: int


def _local_midnight_utc(day: date) -> datetime:
    """The instant a local (UTC+8) calendar day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - LOCAL_UTC_OFFSET


def _conditions(f: BoardFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.states:
        where.append(Case.state.in_(f.states))
    for column, value in ((Case.category, f.category), (Case.grid_code, f.grid),
                          (Case.community_code, f.community),
                          (Case.subdistrict_code, f.subdistrict),
                          (Case.district_code, f.district),
                          (Case.owner_department, f.department)):
        if value:
            where.append(column == value)
    if f.date_from:
        where.append(Case.created_at >= _local_midnight_utc(f.date_from))
    if f.date_to:
        where.append(Case.created_at < _local_midnight_utc(f.date_to + timedelta(days=1)))
    return where


def overdue(as_of: datetime) -> ColumnElement[bool]:
    """Not yet resolved and past the resolution deadline at ``as_of``.

    The states are bound parameters; PostgreSQL plans each board query with their values, so
    the partial index on unresolved cases still answers it.
    """
    return and_(Case.state.in_(state_values(UNRESOLVED_STATES)), Case.resolve_by < as_of)


def conditions(f: BoardFilter, scope: CaseScope, *, as_of: datetime) -> list[ColumnElement[bool]]:
    """The board's WHERE conditions for ``f`` inside ``scope``, "overdue only" included (the map
    uses them too)."""
    where = [*_conditions(f), case_condition(scope)]
    if f.overdue_only:
        where.append(overdue(as_of))
    return where


def _columns(lang: str, *, reporter: bool) -> Select[Any]:
    """The board's columns; the reporter's name and phone only when ``reporter`` (exports)."""
    category_name = CaseCategory.name_en if lang == "en" else CaseCategory.name_zh
    department_name = Department.name_en if lang == "en" else Department.name_zh
    personal = [Case.reporter_name, Case.reporter_phone] if reporter else []
    return (select(Case.id, Case.category, category_name.label("category_name"),
                   func.left(Case.description, 140).label("description"), Case.state,
                   Case.grid_code, Case.community_code, Case.owner_kind,
                   Case.owner_department, department_name.label("owner_department_name"),
                   Case.channel, Case.created_at, Case.respond_by, Case.resolve_by,
                   Case.resolved_at, Case.closed_at, Case.rating, *personal,
                   func.ST_X(Case.geom).label("lon"), func.ST_Y(Case.geom).label("lat"))
            .join(CaseCategory, CaseCategory.code == Case.category)
            .outerjoin(Department, Department.code == Case.owner_department))


def page(session: Session, f: BoardFilter, scope: CaseScope, *, as_of: datetime,
         after: Keyset | None, limit: int, lang: str) -> list[dict[str, Any]]:
    """Up to ``limit`` board rows inside ``scope`` after ``after``, each tagged with its section
    (no reporter's name or phone: the board does not show them)."""
    rows: list[dict[str, Any]] = []
    where = [*_conditions(f), case_condition(scope)]
    if after is None or after.section == 1:
        stmt = _columns(lang, reporter=False).where(*where, overdue(as_of))
        if after is not None:
            stmt = stmt.where(tuple_(Case.resolve_by, Case.id) > tuple_(after.key, after.id))
        stmt = stmt.order_by(Case.resolve_by, Case.id).limit(limit)
        rows += [{**r, "section": 1} for r in session.execute(stmt).mappings()]
        after = None
    if len(rows) < limit and not f.overdue_only:
        stmt = _columns(lang, reporter=False).where(*where, not_(overdue(as_of)))
        if after is not None:
            stmt = stmt.where(tuple_(Case.created_at, Case.id) < tuple_(after.key, after.id))
        stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit - len(rows))
        rows += [{**r, "section": 2} for r in session.execute(stmt).mappings()]
    return rows


def all_rows(session: Session, f: BoardFilter, scope: CaseScope, *, as_of: datetime, lang: str,
             batch: int = 1000) -> Iterator[RowMapping]:
    """Every matching row inside ``scope`` with the reporter's name and phone (for exports), same
    order as the board, streamed from a server-side cursor."""
    late = overdue(as_of)
    stmt = (_columns(lang, reporter=True).where(*conditions(f, scope, as_of=as_of))
            .order_by(late.desc(), Case.created_at.desc(), Case.id.desc()))
    result = session.execute(stmt.execution_options(yield_per=batch)).mappings()
    try:
        yield from result
    finally:
        result.close()
