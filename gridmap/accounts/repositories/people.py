"""SQL for the people behind accounts: checks of areas and departments, new people, new accounts."""

from __future__ import annotations

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.models import Account, Community, Department, District, Grid, Person, Subdistrict

_AREA_TABLES: dict[codes.Level, type[District | Subdistrict | Community | Grid]] = {
    codes.Level.DISTRICT: District, codes.Level.SUBDISTRICT: Subdistrict,
                codes.Level.COMMUNITY: Community, codes.Level.GRID: Grid}


def area_exists(session: Session, level: codes.Level, code: str) -> bool:
    """Whether an area of ``level`` with ``code`` is in the territory."""
    table = _AREA_TABLES[level]
    return bool(session.execute(select(exists().where(table.code == code))).scalar())


def department_exists(session: Session, code: str) -> bool:
    """Whether the department is known."""
    return session.get(Department, code) is not None


def person(session: Session, person_id: int) -> Person | None:
    """One person, or None."""
    return session.get(Person, person_id)


def has_account(session: Session, person_id: int) -> bool:
    """Whether the person already has an account."""
    return bool(session.execute(select(exists().where(Account.person_id == person_id))).scalar())


def username_taken(session: Session, username: str) -> bool:
    """Whether the user name is in use."""
    return bool(session.execute(select(exists().where(Account.username == username))).scalar())


def add_person(session: Session, *, name: str, phone: str, role: str,
               department_code: str | None, community_code: str | None) -> int:
    """A new person; its id."""
    person_id: int = session.execute(insert(Person).values(
        name=name, phone=phone, role=role, department_code=department_code,
        community_code=community_code).returning(Person.id)).scalar_one()
    return person_id


def add_account(session: Session, *, username: str, person_id: int, role: str,
                area_code: str | None, department_code: str | None, password_hash: str,
                must_change: bool) -> int:
    """A new account; its id."""
    account_id: int = session.execute(insert(Account).values(
        username=username, person_id=person_id, role=role, area_code=area_code,
        department_code=department_code, password_hash=password_hash,
        must_change_password=must_change).returning(Account.id)).scalar_one()
    return account_id
