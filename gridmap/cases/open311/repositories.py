"""SQL of the Open311 GeoReport v2 API: the service-request listing (the columns of the public
view only: no description, reporter or photos)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, func, select
from sqlalchemy.orm import Session

from gridmap.cases.workflow import TERMINAL_STATES, state_values
from gridmap.models import GRID_EVER, Case, CaseCategory, Department


def _base(lang: str) -> Select[Any]:
    english = lang == "en"
    columns = [
        Case.id, Case.state, Case.category,
        (CaseCategory.name_en if english else CaseCategory.name_zh).label("service_name"),
        CaseCategory.respond_hours, CaseCategory.resolve_hours, Case.owner_kind,
        (Department.name_en if english else Department.name_zh).label("department"),
        GRID_EVER.c.name.label("grid_name"), Case.created_at, Case.updated_at, Case.resolve_by,
        Case.address, func.ST_X(Case.geom).label("lon"), func.ST_Y(Case.geom).label("lat"),
    ]
    return (
        select(*columns)
        .join(CaseCategory, CaseCategory.code == Case.category)
        .join(GRID_EVER, GRID_EVER.c.code == Case.grid_code)
        .outerjoin(Department, Department.code == Case.owner_department))


def requests(session: Session, *, ids: Collection[int], start: datetime | None,
             end: datetime | None, service_codes: Collection[str], statuses: Collection[str],
             lang: str, limit: int) -> Iterable[RowMapping]:
    """Service requests newest first (on the (created_at DESC, id DESC) index): by id when
    ``ids`` is given (the spec: other filters are then ignored), else by window, code, status."""
    stmt = _base(lang)
    if ids:
        stmt = stmt.where(Case.id.in_(ids))
    else:
        if start is not None:
            stmt = stmt.where(Case.created_at >= start)
        if end is not None:
            stmt = stmt.where(Case.created_at <= end)
        if service_codes:
            stmt = stmt.where(Case.category.in_(service_codes))
        # Open311 "closed" is a terminal state of ours; every other state is "open".
        if set(statuses) == {"closed"}:
            stmt = stmt.where(Case.state.in_(state_values(TERMINAL_STATES)))
        elif set(statuses) == {"open"}:
            stmt = stmt.where(Case.state.not_in(state_values(TERMINAL_STATES)))
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
    return session.execute(stmt).mappings()
