"""The audit log (append-only): who did what, when, from where; read by administrators.

Every service that reveals personal data or changes accounts, roles, assignments or enrolments
calls :func:`record` inside its own unit of work, so the entry is written exactly when the
change or the reveal happens (a failed change leaves no entry; a reveal is never unlogged).
Case actions are recorded by their case events, which are append-only too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from gridmap import writers
from gridmap.access import Principal
from gridmap.accounts.repositories import audit as repo
from gridmap.accounts.repositories.audit import AuditFilter


class Event(StrEnum):
    """What an audit entry records."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_LOCKED = "sign_in_locked"
    SIGN_OUT = "sign_out"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CHANGED = "account_changed"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    PERSON_CHANGED = "person_changed"
    ASSIGNMENT_CHANGED = "assignment_changed"
    ENROLMENT_CHANGED = "enrolment_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    CLIENT_CREATED = "open311_client_created"
    CLIENT_REVOKED = "open311_client_revoked"
    PHONE_REVEALED = "phone_revealed"
    PERSONAL_EXPORT = "personal_export"
    PHOTO_VIEWED = "photo_viewed"


CSV_COLUMNS = ("id", "at", "username", "address", "action", "target_kind", "target_id", "detail")


def record(session: Session, principal: Principal, event: Event, *, target_kind: str = "",
           target_id: object = "", detail: Mapping[str, Any] | None = None,
           username: str | None = None) -> None:
    """Append an entry for ``principal`` (``username`` names who tried, for failed sign-ins)."""
    repo.add(session, account_id=principal.account_id,
             username=username if username is not None else principal.username,
             address=principal.address, action=event.value, target_kind=target_kind,
             target_id=str(target_id), detail=detail or {})


def page(session: Session, f: AuditFilter, *, after: tuple[datetime, int] | None,
         limit: int) -> list[dict[str, Any]]:
    """One page of entries, newest first."""
    return repo.page(session, f, after=after, limit=limit)


def csv_lines(session: Session, f: AuditFilter) -> Iterator[str]:
    """Every matching entry as CSV (formula-safe), streamed."""
    rows = ({**row, "address": str(row["address"] or ""), "at": row["at"].isoformat()}
            for row in repo.stream(session, f))
    return writers.csv_rows(CSV_COLUMNS, rows)
