"""SQL for the append-only audit log: add an entry, page and stream entries with filters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, insert, select, tuple_
from sqlalchemy.orm import Session

from gridmap.models import AuditLog


@dataclass(frozen=True)
class AuditFilter:
    """Validated filters of the audit page."""

    action: str | None = None
    username: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def add(session: Session, *, account_id: int | None, username: str, address: str | None,
        action: str, target_kind: str, target_id: str, detail: Mapping[str, Any]) -> None:
    """Append one entry (the app role may insert and read, never change or delete)."""
    session.execute(insert(AuditLog).values(
        account_id=account_id, username=username, address=address, action=action,
        target_kind=target_kind, target_id=target_id, detail=dict(detail)))


def _where(f: AuditFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, value in ((AuditLog.action, f.action), (AuditLog.username, f.username),
                          (AuditLog.target_kind, f.target_kind),
                          (AuditLog.target_id, f.target_id)):
        if value:
            where.append(column == value)
    if f.since:
        where.append(AuditLog.at >= f.since)
    if f.until:
        where.append(AuditLog.at < f.until)
    return where


def _columns() -> Select[Any]:
    columns: list[Any] = [AuditLog.id, AuditLog.at, AuditLog.username, AuditLog.address,
                          AuditLog.action, AuditLog.target_kind, AuditLog.target_id,
                          AuditLog.detail]
    return select(*columns)


def page(session: Session, f: AuditFilter, *, after: tuple[datetime, int] | None,
         limit: int) -> list[dict[str, Any]]:
    """Newest first, up to ``limit`` entries after the keyset ``after`` (at, id)."""
    stmt = _columns().where(*_where(f))
    if after is not None:
        stmt = stmt.where(tuple_(AuditLog.at, AuditLog.id) < tuple_(*after))
    stmt = stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def stream(session: Session, f: AuditFilter, *, batch: int = 1000) -> Iterator[RowMapping]:
    """Every matching entry, newest first, from a server-side cursor."""
    stmt = _columns().where(*_where(f)).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    result = session.execute(stmt.execution_options(yield_per=batch)).mappings()
    try:
        yield from result
    finally:
        result.close()
