"""SQL for the notification outbox: due rows (locked), and the outcome of an attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.sqlfiles import sql


def due(session: Session, *, now: datetime, max_attempts: int, batch: int) -> list[dict[str, Any]]:
    """Up to ``batch`` unsent rows whose next attempt is due, locked for this transaction."""
    rows = session.execute(sql("supervision/outbox_due"),
                           {"now": now, "max_attempts": max_attempts, "batch": batch}).mappings()
    return [dict(r) for r in rows]


def sent(session: Session, row_id: int, *, now: datetime) -> None:
    """Record a delivery."""
    session.execute(text(
        "UPDATE notification_outbox SET sent_at = :now, attempts = attempts + 1, "
        "last_error = NULL WHERE id = :id"), {"now": now, "id": row_id})


def failed(session: Session, row_id: int, *, error: str, retry_at: datetime) -> None:
    """Record a failed attempt and when to try again."""
    session.execute(text(
        "UPDATE notification_outbox SET attempts = attempts + 1, last_error = :error, "
        "next_attempt_at = :retry_at WHERE id = :id"),
        {"error": error[:500], "retry_at": retry_at, "id": row_id})


def figures(session: Session, *, max_attempts: int) -> dict[str, Any]:
    """Unsent rows still being tried and given up on, and the oldest still tried (seconds)."""
    row = session.execute(text(
        "SELECT count(*) FILTER (WHERE attempts < :max) AS pending, "
        "count(*) FILTER (WHERE attempts >= :max) AS failed, "
        "extract(epoch FROM now() - min(created_at) FILTER (WHERE attempts < :max)) AS oldest "
        "FROM notification_outbox WHERE sent_at IS NULL"), {"max": max_attempts}).mappings().one()
    return dict(row)
