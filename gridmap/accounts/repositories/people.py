"""SQL for the people behind accounts: checks of areas and departments, search, new people and
accounts, a person's post."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.accounts.repositories import like
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



def search(session: Session, *, query: str, posts: tuple[str, ...] = (),
           department_code: str | None = None, after: int | None = None,
           limit: int) -> list[dict[str, Any]]:
    """People whose name contains ``query`` (or whose id it is), by id after ``after``, with
    their account's user name when they have one; optionally only these posts or department."""
    stmt = (select(Person.id, Person.name, Person.role, Person.department_code,
                   Person.community_code, Account.id.label("account_id"),
                   Account.username, Account.active)
            .outerjoin(Account, Account.person_id == Person.id))
    text_ = query.strip()
    if text_.isascii() and text_.isdigit() and len(text_) <= 18:
        stmt = stmt.where(Person.id == int(text_))
    elif text_:
        stmt = stmt.where(Person.name.ilike(like.contains(text_), escape=like.ESCAPE))
    if posts:
        stmt = stmt.where(Person.role.in_(posts))
    if department_code:
        stmt = stmt.where(Person.department_code == department_code)
    if after is not None:
        stmt = stmt.where(Person.id > after)
    stmt = stmt.order_by(Person.id).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def departments(session: Session) -> list[dict[str, Any]]:
    """Every department, in its usual order."""
    stmt = select(Department.code, Department.name_zh, Department.name_en).order_by(
        Department.sort_order, Department.code)
    return [dict(r) for r in session.execute(stmt).mappings()]


def set_post(session: Session, person_id: int, *, role: str, department_code: str | None,
             community_code: str | None) -> None:
    """Record a person's post (what the case workflow reads), e.g. after an account's role change."""
    session.execute(update(Person).where(Person.id == person_id).values(
        role=role, department_code=department_code, community_code=community_code))
