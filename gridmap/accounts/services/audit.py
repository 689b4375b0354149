"""The audit log (append-only): who did what, when, from where; read by administrators.

Every service that reveals personal data or changes accounts, roles, assignments or enrolments
calls :func:`record` inside its own unit of work, so the entry is written exactly when the
change or the reveal happens (a failed change leaves no entry; a reveal is never unlogged).
Case actions are recorded by their case events, which are append-only too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import writers
from gridmap.access import Principal
from gridmap.accounts.repositories import audit as repo
from gridmap.accounts.repositories.audit import AuditFilter
from gridmap.accounts.services import rights
from gridmap.accounts.services.paging import PAGE_SIZE, Page
from gridmap.db import unit_of_work
from gridmap.errors import InvalidInput
from gridmap.web import params

CITY_TZ = timezone(timedelta(hours=8))
"""The city's time (China Standard Time, no daylight saving): dates people type are local."""


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
    EMAIL_CHANGED = "email_changed"
    SUPERVISION_RULE_CHANGED = "supervision_rule_changed"
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
    AUDIT_EXPORTED = "audit_exported"
    CARE_REGISTER_VIEWED = "care_register_viewed"
    CARE_ENTRY_VIEWED = "care_entry_viewed"
    CARE_ENTRY_CREATED = "care_entry_created"
    CARE_ENTRY_CLOSED = "care_entry_closed"
    PARTY_HOUSEHOLDS_VIEWED = "party_households_viewed"
    VOLUNTEERS_IMPORTED = "volunteers_imported"
    DISPUTE_PARTIES_VIEWED = "dispute_parties_viewed"


TARGET_KINDS = ("account", "api_token", "open311_client", "grid", "case", "person", "audit_log",
                "care_entry", "supervision_rule", "area", "dispute", "mediation_point")
"""What entries name as their target (the audit page's choices)."""


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
    rows = ({**row, "address": str(row["address"] or ""), "at": row["at"].isoformat(),
             "detail": json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)}
            for row in repo.stream(session, f))
    return writers.csv_rows(CSV_COLUMNS, rows)


def _day(raw: str, name: str, problems: list[str]) -> datetime | None:
    try:
        day = params.day({name: raw.strip()}, name)
    except InvalidInput as exc:
        problems.append(exc.message)
        return None
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=CITY_TZ)


def parse_filter(args: Mapping[str, str]) -> AuditFilter:
    """The audit page's filters: action, user name, target, and local dates ``since`` to
    ``until`` (both included). Every problem is reported at once.

    Raises
    ------
    InvalidInput
        An unknown action or target kind, or a malformed or reversed date range.
    """
    problems: list[str] = []
    action = args.get("action", "").strip()
    if action and action not in {e.value for e in Event}:
        problems.append(f"未知的操作类型 '{action[:40]}' (unknown action)")
    kind = args.get("target_kind", "").strip()
    if kind and kind not in TARGET_KINDS:
        problems.append(f"未知的对象类型 '{kind[:24]}' (unknown target kind)")
    since = _day(args.get("since", ""), "since", problems)
    until = _day(args.get("until", ""), "until", problems)
    if until is not None:
        until += timedelta(days=1)
    if since and until and since >= until:
        problems.append("开始日期晚于结束日期 (since is after until)")
    if problems:
        raise InvalidInput("；".join(problems))
    return AuditFilter(action=action or None,
                       username=args.get("username", "").strip().lower()[:64] or None,
                       target_kind=kind or None,
                       target_id=args.get("target_id", "").strip()[:64] or None,
                       since=since, until=until)


def _cursor(row: Mapping[str, Any]) -> str:
    return f"{row['at'].isoformat()}~{row['id']}"


def parse_after(raw: str | None) -> tuple[datetime, int] | None:
    """The keyset of the audit page's next link (``<at>~<id>``); None if absent or malformed."""
    at, _, entry = (raw or "").partition("~")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    digits = entry.isascii() and entry.isdigit() and len(entry) <= 18
    return (when, int(entry)) if digits and when.tzinfo is not None else None


def browse(session: Session, principal: Principal, f: AuditFilter, *, after: str | None,
           limit: int = PAGE_SIZE) -> Page:
    """One page of entries for an administrator, newest first."""
    rights.admin(principal)
    rows = page(session, f, after=parse_after(after), limit=limit + 1)
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], _cursor(rows[limit - 1]))


def exported(factory: sessionmaker[Session], principal: Principal, f: AuditFilter) -> None:
    """Record that an administrator exports the log (with the filters), before the export."""
    rights.admin(principal)
    filters = {k: (v.isoformat() if isinstance(v, datetime) else v)
               for k, v in asdict(f).items() if v is not None}
    with unit_of_work(factory) as session:
        record(session, principal, Event.AUDIT_EXPORTED, target_kind="audit_log",
               detail={"filters": filters})
