"""What the demo case generator reads (territory, people, categories) and where its cases go."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session

from gridmap.demo.generator.cases import CaseInputs
from gridmap.demo.repositories import bulk
from gridmap.models import Building, CaseCategory, Grid, GridEnrollment, GridMember, Person

ACTING_ROLES = ("grid_worker", "community_secretary", "department_staff")

CASE_COLUMNS = (
    "id", "category", "description", "address", "geom", "input_crs", "grid_code", "community_code",
    "subdistrict_code", "district_code", "building_code", "reporter_name", "reporter_phone",
    "channel", "state", "owner_kind", "owner_department", "owner_person_id", "suspended_from",
    "reopen_count", "rating", "created_by", "created_at", "updated_at", "respond_by", "resolve_by",
    "responded_at", "resolved_at", "closed_at", "version", "synthetic", "duplicate_of",
)
EVENT_COLUMNS = ("case_id", "action", "from_state", "to_state", "actor_id", "note", "payload",
                 "created_at")
COHANDLER_COLUMNS = ("case_id", "department_code", "done", "note", "added_at", "done_at")


def read_case_inputs(session: Session) -> CaseInputs:
    """Grids, buildings, acting people, memberships and categories, as the generator takes them."""
    grids = _frame(session, select(Grid.code, Grid.community_code,
                                   func.ST_AsBinary(Grid.geom).label("wkb")).order_by(Grid.code))
    grids["geometry"] = shapely.from_wkb(grids.pop("wkb").map(bytes).to_numpy())
    surface = func.ST_PointOnSurface(Building.geom)
    buildings = _frame(session, select(
        Building.code, Building.name, Building.address, Building.grid_code, Building.residents,
        func.ST_X(surface).label("lon"), func.ST_Y(surface).label("lat")).order_by(Building.code))
    people = _frame(session, select(
        Person.id.label("person_id"), Person.role, Person.community_code, Person.department_code)
        .where(Person.role.in_(ACTING_ROLES)).order_by(Person.id))
    members = _frame(session, select(GridMember.grid_code, GridMember.person_id, GridMember.role)
                     .where(GridMember.role == "grid_worker")
                     .order_by(GridMember.grid_code, GridMember.person_id))
    enrollments = _frame(session, select(
        GridEnrollment.grid_code, GridEnrollment.department_code, GridEnrollment.person_id)
        .order_by(GridEnrollment.grid_code, GridEnrollment.department_code))
    categories = _frame(session, select(
        CaseCategory.code, CaseCategory.default_departments, CaseCategory.respond_hours,
        CaseCategory.resolve_hours).where(CaseCategory.active).order_by(CaseCategory.sort_order))
    return CaseInputs(grids=grids, buildings=buildings, people=people, members=members,
                      enrollments=enrollments, categories=categories)


def next_case_ids(session: Session, n: int) -> npt.NDArray[np.int64]:
    """``n`` fresh ids from the case table's own sequence, in increasing order."""
    ids = session.execute(
        select(func.nextval(func.pg_get_serial_sequence('"case"', "id")))
        .select_from(func.generate_series(1, n).alias("s"))
        .order_by(literal_column("1"))).scalars()
    return np.fromiter(ids, dtype=np.int64, count=n)


def copy_cases(session: Session, cases: Iterable[tuple[Any, ...]],
               events: Iterable[tuple[Any, ...]],
               cohandlers: Iterable[tuple[Any, ...]]) -> dict[str, int]:
    """COPY case, event and co-handler rows (in the ``*_COLUMNS`` order); returns row counts."""
    return {
        "case": bulk.copy_rows(session, "case", CASE_COLUMNS, cases, plain=True),
        "case_event": bulk.copy_rows(session, "case_event", EVENT_COLUMNS, events, plain=True),
        "case_cohandler": bulk.copy_rows(session, "case_cohandler", COHANDLER_COLUMNS, cohandlers,
                                         plain=True),
    }


def _frame(session: Session, stmt: Select[*tuple[Any, ...]]) -> pd.DataFrame:
    result = session.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))
