"""SQL for cases: intake look-ups, the case row with its optimistic version, events, photos.

Reads on behalf of a person take their :class:`~gridmap.access.CaseScope` (:func:`scoped_case`,
:func:`photo_at`, :func:`possible_duplicates`); :func:`get_case` is for the workflow's own writes
and Open311's public view, which decide access themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import CursorResult, Numeric, cast, func, insert, or_, select, update
from sqlalchemy.orm import Session

from gridmap.access import CaseScope
from gridmap.cases import workflow
from gridmap.cases.repositories.scope import case_condition, scoped
from gridmap.crs import SRID
from gridmap.models import (
    GRID_EVER,
    Case,
    CaseCategory,
    CaseCohandler,
    CaseEvent,
    CasePhoto,
    Community,
    Department,
    GridEnrollment,
    GridMember,
    Person,
)
from gridmap.sqlfiles import sql


def categories(session: Session) -> list[CaseCategory]:
    """Active categories in display order."""
    stmt = select(CaseCategory).where(CaseCategory.active).order_by(CaseCategory.sort_order)
    return list(session.execute(stmt).scalars())


def category(session: Session, code: str, *, active_only: bool = True) -> CaseCategory | None:
    """One category (by default only an active one), or None."""
    found = session.get(CaseCategory, code)
    return found if found is not None and (found.active or not active_only) else None


def department_names(session: Session, lang: str) -> dict[str, str]:
    """Department code -> name in ``lang``, in display order."""
    name = Department.name_en if lang == "en" else Department.name_zh
    stmt = select(Department.code, name).order_by(Department.sort_order, Department.code)
    return {code: label for code, label in session.execute(stmt)}


def position(session: Session, case_id: int) -> tuple[float, float]:
    """A case's WGS84 longitude and latitude."""
    lon, lat = session.execute(select(func.ST_X(Case.geom), func.ST_Y(Case.geom))
                               .where(Case.id == case_id)).one()
    return float(lon), float(lat)


def photos(session: Session, case_id: int) -> list[CasePhoto]:
    """A case's photos in upload order."""
    stmt = select(CasePhoto).where(CasePhoto.case_id == case_id).order_by(CasePhoto.id)
    return list(session.execute(stmt).scalars())


def photo_at(session: Session, case_id: int, path: str, scope: CaseScope) -> CasePhoto | None:
    """The photo of ``case_id`` stored at ``path`` (its original or its thumbnail), if the case
    is in ``scope``."""
    stmt = (select(CasePhoto).join(Case, Case.id == CasePhoto.case_id)
            .where(CasePhoto.case_id == case_id, case_condition(scope),
                   or_(CasePhoto.path == path, CasePhoto.thumb_path == path)))
    return session.execute(stmt).scalar_one_or_none()


def by_token(session: Session, token: str) -> Case | None:
    """The case created with this client token (a form submitted twice), if any.

    Takes a transaction-scoped advisory lock on the token first, so two submissions of the same
    form arriving together are serialised: the second waits for the first to commit, then finds
    its case instead of failing on the unique constraint. That holds because the only insert of
    a token (intake) runs in the transaction that called this first, and because the SELECT
    after the wait takes a new snapshot (READ COMMITTED, the engine's isolation level); so no
    caller needs to handle a unique violation on the token.
    """
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(token, 0))))
    return session.execute(select(Case).where(Case.client_token == token)).scalar_one_or_none()


def grids_near(session: Session, lon: float, lat: float, radius_m: float) -> list[dict[str, Any]]:
    """Grids covering the point or within ``radius_m`` of it, nearest first (covering = 0 m)."""
    rows = session.execute(sql("cases/grids_near"), {"lon": lon, "lat": lat, "radius": radius_m}).mappings()
    return [dict(r) for r in rows]


def possible_duplicates(session: Session, lon: float, lat: float, category: str,
                        scope: CaseScope, *, radius_m: float, since: datetime,
                        limit: int = 10) -> list[dict[str, Any]]:
    """Linkable cases of ``scope`` of the same category within ``radius_m`` of the point,
    reported since ``since``, nearest first.

    The ``&&`` pre-filter (``radius_m / 70,000`` degrees is wider than ``radius_m`` metres at
    Shenyang's latitude) lets the GiST index answer before the exact geography test.
    """
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
    distance = func.ST_Distance(cast(Case.geom, Geography), cast(point, Geography))
    stmt = (select(Case.id, Case.description, Case.state, Case.created_at,
                   func.round(cast(distance, Numeric), 1).label("distance_m"))
            .where(Case.category == category, Case.created_at >= since,
                   Case.state.in_(workflow.state_values(workflow.LINKABLE_STATES)),
                   Case.geom.op("&&")(func.ST_Expand(point, radius_m / 70000.0)),
                   func.ST_DWithin(cast(Case.geom, Geography), cast(point, Geography), radius_m),
                   scoped(session, scope))
            .order_by(distance, Case.id).limit(limit))
    return [dict(r) for r in session.execute(stmt).mappings()]


def grid_context(session: Session, grid_code: str, lon: float, lat: float) -> dict[str, Any]:
    """Codes above a grid, its worker, its enrolled departments and its nearest building."""
    row = session.execute(sql("cases/grid_context"),
                          {"grid": grid_code, "lon": lon, "lat": lat}).mappings().one()
    return dict(row)


def insert_case(session: Session, values: Mapping[str, Any], lon: float, lat: float) -> int:
    """Insert a case at (lon, lat); returns its id."""
    geom = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    stmt = insert(Case).values(**values, geom=geom).returning(Case.id)
    case_id: int = session.execute(stmt).scalar_one()
    return case_id


def insert_event(session: Session, case_id: int, *, action: str, from_state: str | None,
                 to_state: str, actor_id: int, note: str, payload: Mapping[str, Any]) -> None:
    """Append one event to a case's history."""
    session.execute(insert(CaseEvent).values(
        case_id=case_id, action=action, from_state=from_state, to_state=to_state,
        actor_id=actor_id, note=note, payload=dict(payload)))


def insert_photo(session: Session, *, case_id: int, kind: str, content_type: str, path: str,
                 thumb_path: str, size_bytes: int, width: int, height: int) -> int:
    """Record a stored photo (paths relative to the media folder); returns its id."""
    stmt = insert(CasePhoto).values(
        case_id=case_id, kind=kind, content_type=content_type, path=path, thumb_path=thumb_path,
        bytes=size_bytes, width=width, height=height).returning(CasePhoto.id)
    photo_id: int = session.execute(stmt).scalar_one()
    return photo_id


def get_case(session: Session, case_id: int) -> Case | None:
    """A case row (a fresh read, not the session's identity map), whoever asks."""
    stmt = select(Case).where(Case.id == case_id).execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def scoped_case(session: Session, case_id: int, scope: CaseScope) -> Case | None:
    """A case row (a fresh read) if it is in ``scope``; None for one that is not or does not
    exist, so that the caller cannot tell the two apart."""
    stmt = (select(Case).where(Case.id == case_id, case_condition(scope))
            .execution_options(populate_existing=True))
    return session.execute(stmt).scalar_one_or_none()


def cohandlers(session: Session, case_id: int) -> list[CaseCohandler]:
    """The case's co-handling departments, in the order they were pulled in."""
    stmt = (select(CaseCohandler).where(CaseCohandler.case_id == case_id)
            .order_by(CaseCohandler.added_at, CaseCohandler.department_code))
    return list(session.execute(stmt).scalars())


def update_case(session: Session, case_id: int, expected_version: int,
                values: Mapping[str, Any]) -> bool:
    """Write ``values`` if the case is still at ``expected_version`` (then bump it).

    Returns False when someone else changed the case first: the caller reports a conflict.
    """
    stmt = (update(Case)
            .where(Case.id == case_id, Case.version == expected_version)
            .values(**values, version=Case.version + 1, updated_at=func.now()))
    result: CursorResult[Any] = session.execute(stmt)  # type: ignore[assignment]
    return result.rowcount == 1


def replace_cohandlers(session: Session, case_id: int,
                       parts: Sequence[tuple[str, bool, str]]) -> None:
    """Make the case's co-handlers exactly ``parts`` (department, done, note)."""
    current = {c.department_code: c for c in cohandlers(session, case_id)}
    for department, done, note in parts:
        row = current.pop(department, None)
        if row is None:
            session.add(CaseCohandler(case_id=case_id, department_code=department, done=done,
                                      note=note, done_at=func.now() if done else None))
        elif (row.done, row.note) != (done, note):
            row.done, row.note = done, note
            row.done_at = func.now() if done else None
    for row in current.values():
        session.delete(row)
    session.flush()


def events(session: Session, case_id: int, *, lang: str = "zh") -> list[dict[str, Any]]:
    """A case's history, oldest first, with the actors' names, roles and departments."""
    department = Department.name_en if lang == "en" else Department.name_zh
    rows = session.execute(
        select(CaseEvent.id, CaseEvent.action, CaseEvent.from_state, CaseEvent.to_state,
               CaseEvent.note, CaseEvent.payload, CaseEvent.created_at,
               Person.name.label("actor_name"), Person.role.label("actor_role"),
               department.label("actor_department"))
        # An outer join: a supervision notice (督办) is the system's, with no actor.
        .outerjoin(Person, Person.id == CaseEvent.actor_id)
        .outerjoin(Department, Department.code == Person.department_code)
        .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).mappings()
    return [dict(r) for r in rows]


def event_payload(session: Session, case_id: int, event_id: int,
                  action: str) -> dict[str, Any] | None:
    """The payload of one of a case's events of ``action``, None if it has no such event."""
    stmt = select(CaseEvent.payload).where(CaseEvent.case_id == case_id, CaseEvent.id == event_id,
                                           CaseEvent.action == action)
    payload = session.execute(stmt).scalar_one_or_none()
    return dict(payload) if payload is not None else None


def grid_names(session: Session, grid_code: str) -> dict[str, str | None]:
    """The names of a case's grid (also one merged away since: ``grid_ever``) and community."""
    row = session.execute(
        select(GRID_EVER.c.name.label("grid_name"), Community.name.label("community_name"))
        .select_from(GRID_EVER)
        .outerjoin(Community, Community.code == GRID_EVER.c.community_code)
        .where(GRID_EVER.c.code == grid_code)).mappings().first()
    return {"grid_name": row["grid_name"], "community_name": row["community_name"]} if row else {
        "grid_name": None, "community_name": None}


def enrolled_departments(session: Session, grid_code: str) -> list[str]:
    """Codes of the departments enrolled in a grid (for a grid merged away: in the grid it
    became part of)."""
    stmt = select(GridEnrollment.department_code).where(
        GridEnrollment.grid_code == func.grid_current(grid_code))
    return list(session.execute(stmt).scalars())


def grid_worker(session: Session, grid_code: str) -> int | None:
    """The person id of a grid's worker, if it has one (for a grid merged away: the worker of
    the grid it became part of)."""
    stmt = select(GridMember.person_id).where(GridMember.grid_code == func.grid_current(grid_code),
                                              GridMember.role == "grid_worker")
    return session.execute(stmt).scalar_one_or_none()


def grid_worker_name(session: Session, grid_code: str) -> str | None:
    """The name of a grid's worker (for a grid merged away: of the grid it became part of)."""
    stmt = (select(Person.name).join(GridMember, GridMember.person_id == Person.id)
            .where(GridMember.grid_code == func.grid_current(grid_code),
                   GridMember.role == "grid_worker"))
    return session.execute(stmt).scalar_one_or_none()
