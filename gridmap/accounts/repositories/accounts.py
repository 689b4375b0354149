"""SQL for accounts: the principal row, look-up by user name, sign-in bookkeeping, the
administrators' list (keyset pages, search) and changes of role, scope and state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, union, update
from sqlalchemy.orm import Session

from gridmap.accounts.repositories import like
from gridmap.models import Account, Community, District, Grid, Person, Subdistrict
from gridmap.sqlfiles import sql


def principal_row(session: Session, account_id: int) -> dict[str, Any] | None:
    """The account with its person's name and the grids its role works in, or None."""
    row = session.execute(sql("accounts/principal"), {"id": account_id}).mappings().first()
    return dict(row) if row is not None else None


def by_username(session: Session, username: str) -> Account | None:
    """The account of ``username`` (already lower-cased), or None."""
    return session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()


def get(session: Session, account_id: int, *, for_update: bool = False) -> Account | None:
    """One account by id (row-locked with ``for_update``), or None."""
    stmt = select(Account).where(Account.id == account_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def signed_in(session: Session, account_id: int, *, new_hash: str | None) -> None:
    """Record a successful sign-in (and store an upgraded hash)."""
    values: dict[str, Any] = {"last_sign_in_at": func.now()}
    if new_hash is not None:
        values["password_hash"] = new_hash
    session.execute(update(Account).where(Account.id == account_id).values(**values))


def set_password(session: Session, account_id: int, password_hash: str, *,
                 must_change: bool) -> int:
    """Store a new password hash and end every other session; the new session epoch."""
    epoch: int = session.execute(
        update(Account).where(Account.id == account_id)
        .values(password_hash=password_hash, must_change_password=must_change,
                password_changed_at=func.now(), session_epoch=Account.session_epoch + 1)
        .returning(Account.session_epoch)).scalar_one()
    return epoch


def now(session: Session) -> datetime:
    """The database's clock (one clock for every timestamp of a request)."""
    value: datetime = session.execute(select(func.now())).scalar_one()
    return value



def _area_name() -> Any:
    """The name of the account's area, whichever level its code is (by primary key)."""
    return func.coalesce(*(select(level.name).where(level.code == Account.area_code)
                           .scalar_subquery() for level in (District, Subdistrict, Community, Grid)))


def _listed() -> Select[Any]:
    columns: list[Any] = [
        Account.id, Account.username, Account.role, Account.area_code,
        _area_name().label("area_name"), Account.department_code,
        Account.active, Account.must_change_password, Account.created_at,
        Account.last_sign_in_at, Account.deactivated_at, Account.person_id, Account.email,
        Person.name, Person.phone, Person.role.label("post")]
    return select(*columns).join(Person, Person.id == Account.person_id)


def page(session: Session, *, query: str, role: str | None, after: str | None,
         limit: int) -> list[dict[str, Any]]:
    """Accounts by user name after the keyset ``after``, matching ``query`` in the user name or
    the person's name (substring; trigram indexes on both), up to ``limit``."""
    stmt = _listed()
    if query:
        pattern = like.contains(query)
        # Two index-driven look-ups united, not one OR across a join (which scans every account).
        by_name = select(Account.id).join(Person, Person.id == Account.person_id).where(
            Person.name.ilike(pattern, escape=like.ESCAPE))
        by_username = select(Account.id).where(Account.username.ilike(pattern, escape=like.ESCAPE))
        stmt = stmt.where(Account.id.in_(union(by_username, by_name).scalar_subquery()))
    if role:
        stmt = stmt.where(Account.role == role)
    if after:
        stmt = stmt.where(Account.username > after)
    stmt = stmt.order_by(Account.username).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def listed(session: Session, account_id: int) -> dict[str, Any] | None:
    """One account as the administration pages show it, or None."""
    row = session.execute(_listed().where(Account.id == account_id)).mappings().first()
    return dict(row) if row is not None else None


def active_admins(session: Session) -> int:
    """How many active administrator accounts there are, their rows locked until the end of the
    transaction (two administrators demoting each other at once cannot leave none)."""
    ids = session.execute(select(Account.id).where(Account.role == "admin", Account.active)
                          .order_by(Account.id).with_for_update()).scalars().all()
    return len(ids)


def change_scope(session: Session, account_id: int, *, role: str, area_code: str | None,
                 department_code: str | None) -> None:
    """Set an account's role and scope and end its sessions (raise the session epoch)."""
    session.execute(update(Account).where(Account.id == account_id).values(
        role=role, area_code=area_code, department_code=department_code,
        session_epoch=Account.session_epoch + 1))


def set_email(session: Session, account_id: int, email: str | None) -> None:
    """Set (``None``: clear) the account's notification e-mail address."""
    session.execute(update(Account).where(Account.id == account_id).values(email=email))


def set_active(session: Session, account_id: int, active: bool) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    values: dict[str, Any] = {"active": active,
                              "deactivated_at": None if active else func.now()}
    if not active:
        values["session_epoch"] = Account.session_epoch + 1
    session.execute(update(Account).where(Account.id == account_id).values(**values))
