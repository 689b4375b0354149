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

from sqlalchemy import ColumnElement, RowMapping, Select, and_, false, func, not_, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from gridmap.access import CaseScope
from gridmap.cases.deadlines import LOCAL_UTC_OFFSET
from gridmap.cases.repositories.scope import scoped
from gridmap.cases.workflow import UNRESOLVED_STATES, state_values
from gridmap.models import GRID_EVER, Case, CaseCategory, Community, Department


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
    text: str | None = None
    """Words to find in the case number, description or address (case-insensitive)."""
    grids: tuple[str, ...] | None = None
    """Quick filter "my grid": only these grids (an empty set matches nothing)."""
    person_id: int | None = None
    """Quick filter "my cases": cases this person reported or now owns."""


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
    if f.text:
        where.append(_text_match(f.text))
    if f.grids is not None:
        where.append(Case.grid_code.in_(f.grids) if f.grids else false())
    if f.person_id is not None:
        where.append(or_(Case.created_by == f.person_id, Case.owner_person_id == f.person_id))
    if f.date_from:
        where.append(Case.created_at >= _local_midnight_utc(f.date_from))
    if f.date_to:
        where.append(Case.created_at < _local_midnight_utc(f.date_to + timedelta(days=1)))
    return where


def _text_match(text: str) -> ColumnElement[bool]:
    """The case numbered ``text`` (digits), or any case whose description or address holds it
    (case-insensitive; ``%``, ``_`` and ``\\`` are plain characters); "#" and digits: that case
    number only.

    ``ILIKE`` (not ``lower() LIKE``) so that the trigram indexes of migration 0018 serve it.
    """
    number = text.removeprefix("#")
    is_number = number.isascii() and number.isdigit() and len(number) <= 15
    if is_number and text.startswith("#"):
        return Case.id == int(number)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found: list[ColumnElement[bool]] = [Case.description.ilike(pattern, escape="\\"),
                                        Case.address.ilike(pattern, escape="\\")]
    if is_number:
        found.append(Case.id == int(number))
    return or_(*found)


def overdue(as_of: datetime) -> ColumnElement[bool]:
    """Not yet resolved and past the resolution deadline at ``as_of``.

    The states are bound parameters; PostgreSQL plans each board query with their values, so
    the partial index on unresolved cases still answers it.
    """
    return and_(Case.state.in_(state_values(UNRESOLVED_STATES)), Case.resolve_by < as_of)


def conditions(session: Session, f: BoardFilter, scope: CaseScope, *,
               as_of: datetime) -> list[ColumnElement[bool]]:
    """The board's WHERE conditions for ``f`` inside ``scope``, "overdue only" included (the map
    uses them too)."""
    where = [*_conditions(f), scoped(session, scope)]
    if f.overdue_only:
        where.append(overdue(as_of))
    return where


def _columns(c: Any, lang: str, *, reporter: bool) -> Select[Any]:
    """The board's columns of ``c`` (the case table, or a page of it from :func:`_page_of`),
    with the category's and owning department's names; the reporter's name and phone only when
    ``reporter`` (exports)."""
    category_name = CaseCategory.name_en if lang == "en" else CaseCategory.name_zh
    department_name = Department.name_en if lang == "en" else Department.name_zh
    personal = [c.reporter_name, c.reporter_phone] if reporter else []
    # A case's grid by name: the current grid's, or the last name of one merged away since.
    grid_name = select(GRID_EVER.c.name).where(GRID_EVER.c.code == c.grid_code).limit(1) \
        .scalar_subquery()
    community_name = (select(Community.name).where(Community.code == c.community_code)
                      .scalar_subquery())
    return (select(c.id, c.category, category_name.label("category_name"),
                   func.left(c.description, 140).label("description"), c.state,
                   c.grid_code, grid_name.label("grid_name"), c.community_code,
                   community_name.label("community_name"), c.owner_kind,
                   c.owner_department, department_name.label("owner_department_name"),
                   c.channel, c.created_at, c.respond_by, c.resolve_by,
                   c.resolved_at, c.closed_at, c.rating, *personal,
                   func.ST_X(c.geom).label("lon"), func.ST_Y(c.geom).label("lat"))
            .join(CaseCategory, CaseCategory.code == c.category)
            .outerjoin(Department, Department.code == c.owner_department))


def _page_of(where: list[ColumnElement[bool]], order: list[Any], limit: int) -> Any:
    """One page of cases, ordered and limited on the case table alone, as an alias of Case.

    The names are joined to the page afterwards: with the joins inside, PostgreSQL may estimate
    few matches, hash-join all of them and sort (tens of thousands of overdue cases of a
    district), where an ordered index scan cut at ``limit`` reads 51 rows.
    """
    return aliased(Case, select(Case).where(*where).order_by(*order).limit(limit).subquery("page"))


def page(session: Session, f: BoardFilter, scope: CaseScope, *, as_of: datetime,
         after: Keyset | None, limit: int, lang: str) -> list[dict[str, Any]]:
    """Up to ``limit`` board rows inside ``scope`` after ``after``, each tagged with its section
    (no reporter's name or phone: the board does not show them)."""
    rows: list[dict[str, Any]] = []
    where = [*_conditions(f), scoped(session, scope)]
    if after is None or after.section == 1:
        late = [*where, overdue(as_of)]
        if after is not None:
            late.append(tuple_(Case.resolve_by, Case.id) > tuple_(after.key, after.id))
        c = _page_of(late, [Case.resolve_by, Case.id], limit)
        stmt = _columns(c, lang, reporter=False).order_by(c.resolve_by, c.id)
        rows += [{**r, "section": 1} for r in session.execute(stmt).mappings()]
        after = None
    if len(rows) < limit and not f.overdue_only:
        rest = [*where, not_(overdue(as_of))]
        if after is not None:
            rest.append(tuple_(Case.created_at, Case.id) < tuple_(after.key, after.id))
        c = _page_of(rest, [Case.created_at.desc(), Case.id.desc()], limit - len(rows))
        stmt = _columns(c, lang, reporter=False).order_by(c.created_at.desc(), c.id.desc())
        rows += [{**r, "section": 2} for r in session.execute(stmt).mappings()]
    return rows


def all_rows(session: Session, f: BoardFilter, scope: CaseScope, *, as_of: datetime, lang: str,
             batch: int = 1000) -> Iterator[RowMapping]:
    """Every matching row inside ``scope`` with the reporter's name and phone (for exports), same
    order as the board, streamed from a server-side cursor."""
    late = overdue(as_of)
    stmt = (_columns(Case, lang, reporter=True).where(*conditions(session, f, scope, as_of=as_of))
            .order_by(late.desc(), Case.created_at.desc(), Case.id.desc()))
    result = session.execute(stmt.execution_options(yield_per=batch)).mappings()
    try:
        yield from result
    finally:
        result.close()
