"""A principal's case scope as an SQL condition on ``"case"``: the one translation every case read
goes through (board, exports, map points, detail, photos, duplicates at intake, statistics).

Each kind maps onto an index the board already has, so a scoped board is as fast as a filtered
one: an area is an equality on the case's own code column of that level (``ix_case_district_code``
and its siblings, each ``(code, created_at DESC, id DESC)``), never a ``LIKE`` on the grid code;
grids are ``grid_code IN (…)`` on ``ix_case_grid_code``; a department adds its owner column
(``ix_case_owner_department``) or its whistles (``ix_case_cohandler_department``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

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


def cohandled_by(department: str) -> Any:
    """The ids of the cases whistled to ``department`` (a subquery for ``IN``)."""
    return select(CaseCohandler.case_id).where(CaseCohandler.department_code == department)


def case_condition(scope: CaseScope) -> ColumnElement[bool]:
    """The cases ``scope`` holds, as a WHERE condition on :class:`~gridmap.models.Case`.

    ``none`` → false; ``all`` (and an area of the whole city) → true; ``area`` → its level's
    code column equals it; ``grids`` → ``grid_code IN grids``; ``department`` → ``grid_code IN
    grids`` and (owned by the department or whistled to it). Empty grids hold nothing.
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
            return and_(in_grids, or_(Case.owner_department == scope.department,
                                      Case.id.in_(cohandled_by(scope.department))))
    return false()
