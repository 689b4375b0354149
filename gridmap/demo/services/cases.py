"""Load a year of synthetic cases (民呼我应) onto the demo territory, inside the caller's transaction.

Reads the territory, people and categories already loaded, generates the histories with
`gridmap.demo.generator.cases` (every step through `gridmap.cases.workflow.apply`), and COPYs
cases, events and co-handlers. Nothing is deleted: reloading the territory (``TRUNCATE … CASCADE`` in
`gridmap.demo.services.load`) is what clears earlier demo cases, since case_event is append-only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from gridmap.demo.generator.cases import CaseInputs, DemoCases, generate_cases
from gridmap.demo.repositories.bulk import ewkb_hex
from gridmap.models import Building, CaseCategory, Grid, GridEnrollment, GridMember, Person

DEFAULT_COUNT = 20_000
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
# COPY targets, fixed here: identifiers are never built from input.
_COPY_SQL = {
    "case": 'COPY "case" ({}) FROM STDIN'.format(", ".join(CASE_COLUMNS)),
    "case_event": "COPY case_event ({}) FROM STDIN".format(", ".join(EVENT_COLUMNS)),
    "case_cohandler": "COPY case_cohandler ({}) FROM STDIN".format(", ".join(COHANDLER_COLUMNS)),
}


def read_case_inputs(session: Session) -> CaseInputs:
    """Read grids, buildings, acting people, memberships and categories for the generator."""
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


def load_demo_cases(session: Session, *, count: int = DEFAULT_COUNT, seed: int = 20231101,
                    now: datetime | None = None) -> dict[str, int]:
    """Generate ``count`` demo cases over the year before ``now`` and COPY them; returns row counts.

    Runs in the session's transaction and never commits. ``now`` defaults to the current time;
    pass it (aware) for reproducible output.
    """
    when = now if now is not None else datetime.now(UTC)
    data = generate_cases(read_case_inputs(session), now=when, count=count, seed=seed)
    return copy_demo_cases(session, data)


def copy_demo_cases(session: Session, data: DemoCases) -> dict[str, int]:
    """COPY generated cases, their events and co-handlers; case ids come from the case sequence."""
    n = len(data.cases)
    if n == 0:
        return {"case": 0, "case_event": 0, "case_cohandler": 0}
    ids = np.fromiter(session.execute(
        select(func.nextval(func.pg_get_serial_sequence('"case"', "id")))
        .select_from(func.generate_series(1, n).alias("s"))
        .order_by(literal_column("1"))).scalars(), dtype=np.int64, count=n)
    duplicate_of = data.cases["duplicate_of_no"]
    cases = data.cases.assign(
        id=ids[data.cases["case_no"].to_numpy()], input_crs="wgs84",
        geom=ewkb_hex(shapely.points(data.cases["lon"], data.cases["lat"])),
        duplicate_of=pd.Series(ids[duplicate_of.fillna(0).to_numpy(dtype=np.int64)],
                               index=duplicate_of.index, dtype="Int64").where(duplicate_of.notna()))
    events = data.events.assign(
        case_id=ids[data.events["case_no"].to_numpy()],
        payload=[json.dumps(p, ensure_ascii=False) for p in data.events["payload"]])
    parts = data.cohandlers.assign(case_id=ids[data.cohandlers["case_no"].to_numpy()])
    conn = session.connection().connection.driver_connection
    if not isinstance(conn, psycopg.Connection):
        raise TypeError("COPY needs the psycopg 3 driver (postgresql+psycopg://)")
    return {
        "case": _copy(conn, "case", _columns(cases, CASE_COLUMNS)),
        "case_event": _copy(conn, "case_event", _columns(events, EVENT_COLUMNS)),
        "case_cohandler": _copy(conn, "case_cohandler", _columns(parts, COHANDLER_COLUMNS)),
    }


def _frame(session: Session, stmt: Any) -> pd.DataFrame:
    result = session.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _columns(frame: pd.DataFrame, names: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    """Rows of plain Python values, None for missing (what psycopg's COPY dumps)."""
    cols = [frame[c].astype(object).where(frame[c].notna(), None).to_numpy() for c in names]
    return zip(*cols, strict=True)


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterable[tuple[Any, ...]]) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(_COPY_SQL[table]) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n
