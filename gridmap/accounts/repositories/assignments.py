"""SQL for assignments: which grids a grid worker serves (``grid_member``) and which departments'
staff are enrolled in which grids (``grid_enrollment``, 网格吹哨、部门报到).

Each grid has at most one grid worker (the partial unique index ``uq_grid_one_worker``) and each
department at most one enrolled staff member per grid (the primary key), so setting either
replaces whoever held it; the callers say so and record who it was. The grid cards (migration
0002) follow by their triggers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gridmap.accounts.repositories import like
from gridmap.models import (
    Account,
    Community,
    Department,
    District,
    Grid,
    GridEnrollment,
    GridMember,
    Person,
    Subdistrict,
)

WORKER = "grid_worker"


def grids_page(session: Session, *, area: str | None, query: str, after: str | None,
               limit: int) -> list[dict[str, Any]]:
    """Grids by code after ``after`` inside ``area`` (a code prefix; None: all), whose code
    starts with ``query`` or whose name contains it, with their worker and enrolment count."""
    worker = (select(Person.name).join(GridMember, GridMember.person_id == Person.id)
              .where(GridMember.grid_code == Grid.code, GridMember.role == WORKER)
              .correlate(Grid).scalar_subquery())
    enrolled = (select(func.count()).select_from(GridEnrollment)
                .where(GridEnrollment.grid_code == Grid.code).correlate(Grid).scalar_subquery())
    columns: list[Any] = [Grid.code, Grid.name, Community.name.label("community"),
                          worker.label("worker"), enrolled.label("enrolments")]
    stmt = select(*columns).join(Community, Community.code == Grid.community_code)
    if area:
        stmt = stmt.where(Grid.code.startswith(area, autoescape=True))
    text_ = query.strip()
    if text_.isascii() and text_.isdigit():
        stmt = stmt.where(Grid.code.startswith(text_, autoescape=True))
    elif text_:
        stmt = stmt.where(Grid.name.ilike(like.contains(text_), escape=like.ESCAPE))
    if after:
        stmt = stmt.where(Grid.code > after)
    stmt = stmt.order_by(Grid.code).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def grid(session: Session, code: str) -> dict[str, Any] | None:
    """A grid with the names of its community, sub-district and district, or None."""
    columns: list[Any] = [Grid.code, Grid.name, Grid.community_code,
                          Community.name.label("community"), Subdistrict.name.label("subdistrict"),
                          District.name.label("district")]
    stmt = (select(*columns).join(Community, Community.code == Grid.community_code)
            .join(Subdistrict, Subdistrict.code == Community.subdistrict_code)
            .join(District, District.code == Subdistrict.district_code)
            .where(Grid.code == code))
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _person_columns() -> list[Any]:
    return [Person.id.label("person_id"), Person.name, Person.phone, Person.role,
            Person.department_code, Account.username, Account.active]


def worker(session: Session, code: str, *, for_update: bool = False) -> dict[str, Any] | None:
    """A grid's worker (with their account, if any), or None."""
    stmt = (select(*_person_columns()).select_from(GridMember)
            .join(Person, Person.id == GridMember.person_id)
            .outerjoin(Account, Account.person_id == Person.id)
            .where(GridMember.grid_code == code, GridMember.role == WORKER))
    if for_update:
        stmt = stmt.with_for_update(of=GridMember)
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def enrolments(session: Session, code: str, *, lang: str) -> list[dict[str, Any]]:
    """Every department, in order, with its staff member enrolled in the grid (or None)."""
    name = Department.name_en if lang == "en" else Department.name_zh
    columns: list[Any] = [Department.code.label("department_code"),
                          name.label("department"), *_person_columns()]
    stmt = (select(*columns).select_from(Department)
            .outerjoin(GridEnrollment, and_(GridEnrollment.department_code == Department.code,
                                            GridEnrollment.grid_code == code))
            .outerjoin(Person, Person.id == GridEnrollment.person_id)
            .outerjoin(Account, Account.person_id == Person.id)
            .order_by(Department.sort_order, Department.code))
    return [dict(r) for r in session.execute(stmt).mappings()]


def enrolled(session: Session, code: str, department: str, *,
             for_update: bool = False) -> dict[str, Any] | None:
    """The staff member a department has enrolled in a grid, or None."""
    stmt = (select(*_person_columns()).select_from(GridEnrollment)
            .join(Person, Person.id == GridEnrollment.person_id)
            .outerjoin(Account, Account.person_id == Person.id)
            .where(GridEnrollment.grid_code == code, GridEnrollment.department_code == department))
    if for_update:
        stmt = stmt.with_for_update(of=GridEnrollment)
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def person(session: Session, person_id: int) -> dict[str, Any] | None:
    """A person with their account (if any), or None."""
    stmt = (select(*_person_columns()).select_from(Person)
            .outerjoin(Account, Account.person_id == Person.id).where(Person.id == person_id))
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def set_worker(session: Session, code: str, person_id: int) -> None:
    """Make ``person_id`` the grid's worker, replacing the one it had (one worker per grid)."""
    session.execute(delete(GridMember).where(GridMember.grid_code == code,
                                             GridMember.role == WORKER))
    # A Party household of the grid who becomes its worker keeps one membership row.
    session.execute(pg_insert(GridMember).values(grid_code=code, person_id=person_id, role=WORKER)
                    .on_conflict_do_update(index_elements=["grid_code", "person_id"],
                                           set_={"role": WORKER}))


def remove_worker(session: Session, code: str) -> None:
    """Leave the grid without a worker."""
    session.execute(delete(GridMember).where(GridMember.grid_code == code,
                                             GridMember.role == WORKER))


def set_enrolment(session: Session, code: str, department: str, person_id: int) -> None:
    """Enrol ``person_id`` for ``department`` in the grid, replacing the staff it had there."""
    session.execute(pg_insert(GridEnrollment)
                    .values(grid_code=code, department_code=department, person_id=person_id)
                    .on_conflict_do_update(index_elements=["grid_code", "department_code"],
                                           set_={"person_id": person_id}))


def remove_enrolment(session: Session, code: str, department: str) -> None:
    """The department is no longer enrolled in the grid."""
    session.execute(delete(GridEnrollment).where(GridEnrollment.grid_code == code,
                                                 GridEnrollment.department_code == department))


def served_grids(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The grids a person serves as grid worker, by code."""
    stmt = (select(Grid.code, Grid.name).join(GridMember, GridMember.grid_code == Grid.code)
            .where(GridMember.person_id == person_id, GridMember.role == WORKER)
            .order_by(Grid.code))
    return [dict(r) for r in session.execute(stmt).mappings()]


def enrolled_grids(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The grids a person is enrolled in, with the department, by grid code."""
    stmt = (select(Grid.code, Grid.name, GridEnrollment.department_code)
            .join(GridEnrollment, GridEnrollment.grid_code == Grid.code)
            .where(GridEnrollment.person_id == person_id)
            .order_by(Grid.code, GridEnrollment.department_code))
    return [dict(r) for r in session.execute(stmt).mappings()]

