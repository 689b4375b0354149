"""What the demo accounts are made of: loaded districts, a grid worker with cases, the secretary
of that grid's community, a department's staff member enrolled there; and the demo accounts
already in the database (to keep or replace)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from gridmap.models import (
    Account,
    ApiToken,
    Case,
    District,
    Grid,
    GridEnrollment,
    GridMember,
    Person,
)


def _free(username: str) -> ColumnElement[bool]:
    """The person has no account, or only the one called ``username`` (a demo account being
    replaced)."""
    return ~exists().where(Account.person_id == Person.id, Account.username != username)


def districts(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """The districts among ``codes`` whose grids are loaded (every district's outline is, grids
    only for the districts generated): code → name."""
    has_grids = exists().where(Grid.code.startswith(District.code))  # codes are digits
    rows = session.execute(select(District.code, District.name)
                           .where(District.code.in_(list(codes)), has_grids)
                           .order_by(District.code))
    return {str(code): str(name) for code, name in rows}


def grid_worker(session: Session, district: str, *, username: str) -> dict[str, Any] | None:
    """The grid worker of the district's grid with the most cases (then the lowest code) who is
    free for ``username``: person id and name, grid and community codes."""
    cases = (select(func.count()).select_from(Case).where(Case.grid_code == Grid.code)
             .correlate(Grid).scalar_subquery())
    stmt = (select(Person.id.label("person_id"), Person.name, Grid.code.label("grid_code"),
                   Grid.community_code)
            .join_from(Grid, GridMember, (GridMember.grid_code == Grid.code)
                       & (GridMember.role == "grid_worker"))
            .join(Person, Person.id == GridMember.person_id)
            .where(Grid.code.startswith(district, autoescape=True), _free(username))
            .order_by(cases.desc(), Grid.code).limit(1))
    row = session.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def secretary(session: Session, community: str, *, username: str) -> dict[str, Any] | None:
    """The community's secretary (person id and name) if free for ``username``."""
    row = session.execute(
        select(Person.id.label("person_id"), Person.name)
        .where(Person.role == "community_secretary", Person.community_code == community,
               _free(username)).order_by(Person.id).limit(1)).mappings().first()
    return None if row is None else dict(row)


def enrolled(session: Session, grid: str, department: str, *,
             username: str) -> dict[str, Any] | None:
    """The staff member of ``department`` enrolled in ``grid`` (person id, name and how many
    grids they are enrolled in for it) if free for ``username``."""
    other = aliased(GridEnrollment)
    grids = (select(func.count()).select_from(other)
             .where(other.person_id == Person.id, other.department_code == department)
             .correlate(Person).scalar_subquery())
    row = session.execute(
        select(Person.id.label("person_id"), Person.name, grids.label("grids"))
        .join_from(GridEnrollment, Person, Person.id == GridEnrollment.person_id)
        .where(GridEnrollment.grid_code == grid, GridEnrollment.department_code == department,
               _free(username)).limit(1)).mappings().first()
    return None if row is None else dict(row)


def accounts(session: Session, usernames: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The accounts with these user names: user name → id, person, role, area, department."""
    rows = session.execute(select(Account.username, Account.id, Account.person_id, Account.role,
                                  Account.area_code, Account.department_code)
                           .where(Account.username.in_(list(usernames)))).mappings()
    return {str(r["username"]): dict(r) for r in rows}


def delete_account(session: Session, account_id: int) -> None:
    """Remove an account and its API tokens (a demo account being replaced; its person stays,
    and the audit log keeps what it did)."""
    session.execute(delete(ApiToken).where(ApiToken.account_id == account_id))
    session.execute(delete(Account).where(Account.id == account_id))
