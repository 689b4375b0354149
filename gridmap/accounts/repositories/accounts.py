"""SQL for accounts: the principal row, look-up by user name, sign-in bookkeeping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gridmap.models import Account
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
