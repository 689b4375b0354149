"""SQL for personal API tokens and Open311 client keys (both stored as SHA-256 digests)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from gridmap.models import ApiToken, Open311Client

USE_RESOLUTION = timedelta(minutes=1)
"""last_used_at is written at most this often per token: a script's every request need not."""


def add_token(session: Session, *, account_id: int, name: str, digest: str, prefix: str) -> int:
    """Store a new token; its id."""
    token_id: int = session.execute(insert(ApiToken).values(
        account_id=account_id, name=name, digest=digest, prefix=prefix)
        .returning(ApiToken.id)).scalar_one()
    return token_id


def account_of_token(session: Session, digest: str) -> int | None:
    """The account of a live (unrevoked) token, marking it used; None if unknown or revoked.

    The look-up says whether the last use is older than :data:`USE_RESOLUTION` (by the
    database's clock); only then is the token written. A script's every request is one read,
    not a read and an UPDATE that finds nothing to change (that statement was ~0.4 ms of a
    worker's CPU on every request with a token: bench/load_bench.py).
    """
    stale = or_(ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < func.now() - USE_RESOLUTION)
    row = session.execute(select(ApiToken.id, ApiToken.account_id, stale.label("stale"))
                          .where(ApiToken.digest == digest, ApiToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    if row.stale:  # the UPDATE checks again: two requests at once write it once
        session.execute(update(ApiToken).where(ApiToken.id == row.id, stale)
                        .values(last_used_at=func.now())
                        .execution_options(synchronize_session=False))
    return int(row.account_id)


def tokens_of(session: Session, account_id: int) -> list[dict[str, Any]]:
    """An account's tokens, newest first (never the digest)."""
    stmt = (select(ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at,
                   ApiToken.last_used_at, ApiToken.revoked_at)
            .where(ApiToken.account_id == account_id).order_by(ApiToken.id.desc()))
    return [dict(r) for r in session.execute(stmt).mappings()]


def revoke_token(session: Session, token_id: int, *, account_id: int | None) -> bool:
    """Revoke a token (of ``account_id`` only, unless None); whether a live one was revoked."""
    stmt = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    if account_id is not None:
        stmt = stmt.where(ApiToken.account_id == account_id)
    return bool(session.execute(stmt.values(revoked_at=func.now())).rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, account_id: int) -> int:
    """Revoke every live token of an account; how many."""
    stmt = (update(ApiToken)
            .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=func.now()))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def add_client(session: Session, *, name: str, contact: str, digest: str, prefix: str,
               created_by: int | None) -> int:
    """Store a new Open311 client key; its id."""
    client_id: int = session.execute(insert(Open311Client).values(
        name=name, contact=contact, digest=digest, prefix=prefix, created_by=created_by)
        .returning(Open311Client.id)).scalar_one()
    return client_id


def client_of_key(session: Session, digest: str) -> dict[str, Any] | None:
    """The live client holding this key (row-locked and marked used), or None.

    The lock makes concurrent first uses wait for each other, so a client gets one person.
    """
    row = session.execute(select(Open311Client.id, Open311Client.name, Open311Client.person_id)
                          .where(Open311Client.digest == digest,
                                 Open311Client.revoked_at.is_(None))
                          .with_for_update()).mappings().first()
    if row is None:
        return None
    session.execute(update(Open311Client).where(Open311Client.id == row["id"])
                    .values(last_used_at=func.now()))
    return dict(row)


def set_client_person(session: Session, client_id: int, person_id: int) -> None:
    """Record the person a client's cases are created by."""
    session.execute(update(Open311Client).where(Open311Client.id == client_id)
                    .values(person_id=person_id))


def clients(session: Session) -> list[dict[str, Any]]:
    """Every Open311 client, newest first (never the digest)."""
    stmt = (select(Open311Client.id, Open311Client.name, Open311Client.contact,
                   Open311Client.prefix, Open311Client.created_at, Open311Client.last_used_at,
                   Open311Client.revoked_at).order_by(Open311Client.id.desc()))
    return [dict(r) for r in session.execute(stmt).mappings()]


def revoke_client(session: Session, client_id: int) -> bool:
    """Revoke a client's key; whether a live one was revoked."""
    stmt = (update(Open311Client)
            .where(Open311Client.id == client_id, Open311Client.revoked_at.is_(None))
            .values(revoked_at=func.now()))
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
