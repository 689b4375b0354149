"""SQL for the inbox: a person's items, unread count, mark read, and filing new items."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session


def items(session: Session, person_id: int, *, unread_only: bool, limit: int) -> list[dict[str, Any]]:
    """A person's items, unread first, then newest first."""
    rows = session.execute(text(
        "SELECT id, kind, case_id, text, created_at, read_at FROM inbox_item WHERE person_id = :p "
        "AND (NOT :unread_only OR read_at IS NULL) "
        "ORDER BY (read_at IS NULL) DESC, created_at DESC, id DESC LIMIT :limit"),
        {"p": person_id, "unread_only": unread_only, "limit": limit}).mappings()
    return [dict(r) for r in rows]


def unread_count(session: Session, person_id: int) -> int:
    """How many of a person's items are unread."""
    count: int = session.execute(text(
        "SELECT count(*) FROM inbox_item WHERE person_id = :p AND read_at IS NULL"),
        {"p": person_id}).scalar_one()
    return count


def mark_read(session: Session, person_id: int, item_id: int, now: datetime) -> dict[str, Any] | None:
    """Mark one of a person's items read (kept as first read); None if it is not theirs."""
    row = session.execute(text(
        "UPDATE inbox_item SET read_at = COALESCE(read_at, :now) "
        "WHERE id = :id AND person_id = :p "
        "RETURNING id, kind, case_id, text, created_at, read_at"),
        {"now": now, "id": item_id, "p": person_id}).mappings().one_or_none()
    return dict(row) if row is not None else None


def mark_all_read(session: Session, person_id: int, now: datetime) -> int:
    """Mark every unread item of a person read; how many were."""
    result = session.execute(text(
        "UPDATE inbox_item SET read_at = :now WHERE person_id = :p AND read_at IS NULL"),
        {"now": now, "p": person_id})
    return int(result.rowcount)  # type: ignore[attr-defined]


def file_items(session: Session, *, person_ids: Iterable[int], kind: str, case_id: int | None,
               text_: str, dedupe_key: str) -> int:
    """File one item per person (each once under ``dedupe_key`` + the person); how many new."""
    ids = sorted({int(p) for p in person_ids})
    if not ids:
        return 0
    stmt = text(
        "INSERT INTO inbox_item (person_id, kind, case_id, text, dedupe_key) "
        "SELECT p, :kind, :case_id, :text, :key || ':' || p FROM unnest(:ids) AS p "
        "ON CONFLICT (dedupe_key) DO NOTHING").bindparams(bindparam("ids", type_=None))
    result = session.execute(stmt, {"kind": kind, "case_id": case_id, "text": text_,
                                    "key": dedupe_key, "ids": ids})
    return int(result.rowcount)  # type: ignore[attr-defined]


def department_staff(session: Session, grid_code: str, department: str) -> list[int]:
    """The people a department sends to a grid (its enrolment there)."""
    rows = session.execute(text(
        "SELECT person_id FROM grid_enrollment WHERE grid_code = grid_current(:g) "
        "AND department_code = :d"), {"g": grid_code, "d": department}).scalars()
    return [int(r) for r in rows]




def last_sender(session: Session, case_id: int) -> int | None:
    """Who last dispatched or reassigned a case (whom a return goes back to)."""
    person: int | None = session.execute(text(
        "SELECT actor_id FROM case_event WHERE case_id = :c "
        "AND action IN ('dispatch', 'reassign') AND actor_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1"), {"c": case_id}).scalar_one_or_none()
    return person
