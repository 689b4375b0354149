"""A principal's case scope as an SQL condition on ``"case"``: the one translation every case read
goes through (board, exports, map points, detail, photos, duplicates at intake, statistics).

Each kind maps onto indexes, so a scoped board is as fast as a filtered one: an area is an
equality on the case's own code column of that level (``ix_case_<level>_code``, and
``ix_case_open_<level>_code`` for its overdue cases; migration 0007), never a ``LIKE`` on the
grid code; grids are ``grid_code IN (…)``; a department's are the cases it owns in its grids
(``ix_case_owner_department_grid``) or the ones whistled to it there, by primary key.

Lists (board, exports, map points, duplicates) use :func:`scoped`, which first looks up the
few cases whistled to a department in its grids and binds their ids: with the ids known,
PostgreSQL ORs the owner's index with the primary key in one bitmap. Given only a subquery it
cannot size (``IN``/``= ANY(ARRAY(SELECT …))``), PostgreSQL 15 either filtered every case by date
or scanned a partial index once per whistled case (seconds on 500,000 cases).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from gridmap import codes
from gridmap.access import CaseScope
from gridmap.models import Case, CaseCohandler

AREA_COLUMN: dict[codes.Level, InstrumentedAttribute[Any]] = {
    codes.Level.DISTRICT: Case.district_code, codes.Level.SUBDISTRICT: Case.subdistrict_code,
    codes.Level.COMMUNITY: Case.community_code, codes.Level.GRID: Case.grid_code,
}
"""The case column holding the code of each level (a whitelist: no identifier from input)."""


def in_area(code: str) -> ColumnElement[bool]:
    """Cases inside the area (or grid) ``code``, by the indexed code column of its level.

    A code of no known width matches nothing (it cannot name an area).
    """
    level = codes.level_of(code)
    return AREA_COLUMN[level] == code if level is not None else false()


def whistled_cases(session: Session, department: str, grids: Collection[str]) -> list[int]:
    """Ids of the cases of ``grids`` whistled to ``department`` (吹哨): a department's few
    co-handled cases, found from its whistles (``ix_case_cohandler_department``)."""
    stmt = (select(CaseCohandler.case_id).join(Case, Case.id == CaseCohandler.case_id)
            .where(CaseCohandler.department_code == department,
                   Case.grid_code.in_(sorted(grids))))
    return list(session.execute(stmt).scalars())


def case_condition(scope: CaseScope, *,
                   whistled: Collection[int] | None = None) -> ColumnElement[bool]:
    """The cases ``scope`` holds, as a WHERE condition on :class:`~gridmap.models.Case`.

    ``none`` → false; ``all`` (and an area of the whole city) → true; ``area`` → its level's
    code column equals it; ``grids`` → ``grid_code IN grids``; ``department`` → ``grid_code IN
    grids`` and (owned by the department or whistled to it). Empty grids hold nothing.

    ``whistled``: for a department, the ids :func:`whistled_cases` found (lists use
    :func:`scoped`, which passes them); without them a subquery decides, which is right but
    only fit for reading one case.
    """
    if scope.kind == "all" or (scope.kind == "area" and scope.area_code is None):
        return true()
    if scope.kind == "area" and scope.area_code is not None:
        return in_area(scope.area_code)
    if scope.kind in ("grids", "department") and scope.grids:
        in_grids = Case.grid_code.in_(sorted(scope.grids))
        if scope.kind == "grids":
            return in_grids
        if scope.department is not None:
            owned = and_(in_grids, Case.owner_department == scope.department)
            if whistled is not None:  # already limited to the grids: two small index look-ups
                return or_(owned, Case.id.in_(sorted(whistled)))
            cohandled = Case.id.in_(select(CaseCohandler.case_id)
                                    .where(CaseCohandler.department_code == scope.department))
            return or_(owned, and_(in_grids, cohandled))
    return false()


def scoped(session: Session, scope: CaseScope) -> ColumnElement[bool]:
    """:func:`case_condition` for a list query: a department's whistled cases looked up first."""
    if scope.kind == "department" and scope.department is not None and scope.grids:
        return case_condition(scope, whistled=whistled_cases(session, scope.department,
                                                             scope.grids))
    return case_condition(scope)
