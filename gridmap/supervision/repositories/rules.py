"""SQL for the escalation rules (``supervision_rule``): read them, change one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def rules(session: Session) -> list[dict[str, Any]]:
    """Every rule, in the chain's order."""
    rows = session.execute(text(
        "SELECT code, deadline, after_hours, from_level, to_level, active, sort_order "
        "FROM supervision_rule ORDER BY sort_order, code")).mappings()
    return [dict(r) for r in rows]


def locked(session: Session, code: str) -> dict[str, Any] | None:
    """One rule's hours and state, locked for the transaction; None if there is no such rule."""
    row = session.execute(text(
        "SELECT code, after_hours, active FROM supervision_rule WHERE code = :c FOR UPDATE"),
        {"c": code}).mappings().one_or_none()
    return dict(row) if row is not None else None


def change(session: Session, code: str, *, after_hours: float, active: bool) -> None:
    """Set a rule's hours past its deadline and whether it applies."""
    session.execute(text("UPDATE supervision_rule SET after_hours = :h, active = :a "
                         "WHERE code = :c"), {"h": after_hours, "a": active, "c": code})
