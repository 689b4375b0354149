"""Residents' personal data in cases, handed out only on purpose and always on the record.

- The reporter's full phone number: only to the case's handlers (:func:`workflow.is_handler`:
  its grid's worker, supervisors over its grid, staff of its owning or a co-handling department),
  one explicit request at a time, each written to the audit log in the same unit of work as the
  read, as hotline systems do. Everywhere else the number is masked.
- Exports of case rows (reporter names, masked phones, exact points): one audit entry per
  export, with its format and filters, written before the first byte is streamed.

Original photo views are logged where photos are served (:func:`photos.media_file`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.accounts.services import audit
from gridmap.cases import workflow
from gridmap.cases.repositories import cases as repo
from gridmap.cases.repositories.board import BoardFilter
from gridmap.cases.services import cases, queries
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, NotFound


def reveal_phone(factory: sessionmaker[Session], principal: Principal, case_id: int, *,
                 event_id: int | None = None) -> str:
    """The reporter's full phone number, for a handler of the case; logged.

    With ``event_id``: the phone of the further reporter that ``add_report`` event of the case
    recorded (a merged report), under the same rule and logged the same way, naming the event.

    Raises
    ------
    NotFound
        The case is not in the principal's scope (or does not exist).
    Forbidden
        The principal reads the case but does not handle it (an administrator, a department
        no longer on it): nothing is logged.
    """
    with unit_of_work(factory) as session:
        case = queries.readable_case(session, principal, case_id)
        if not workflow.is_handler(cases.view(session, case), principal):
            raise Forbidden("只有本案件的承办人员可以查看完整电话 "
                            "(only the case's handlers may see the full number)")
        phone = case.reporter_phone
        if event_id is not None:
            payload = repo.event_payload(session, case_id, event_id, "add_report")
            phone = str((payload or {}).get("reporter_phone") or "")
            if not phone:
                raise NotFound(f"案件 {case_id} 没有这条带电话的反映 "
                               "(no further report with a phone in this case)")
        audit.record(session, principal, audit.Event.PHONE_REVEALED, target_kind="case",
                     target_id=case_id, detail={"event": event_id} if event_id else None)
    return phone


def log_export(factory: sessionmaker[Session], principal: Principal, f: BoardFilter, *,
               fmt: str) -> None:
    """Record that ``principal`` exports the cases matching ``f`` as ``fmt`` (csv, geojson).

    Checks first that the principal may read case rows at all (Unauthorized, Forbidden), so an
    export that is refused leaves no entry.
    """
    queries.reader_scope(principal)
    with unit_of_work(factory) as session:
        audit.record(session, principal, audit.Event.PERSONAL_EXPORT, target_kind="cases",
                     detail={"format": fmt, "filters": _filters(f)})


def _filters(f: BoardFilter) -> dict[str, Any]:
    """The filters that were set, JSON-ready (dates as ISO days)."""
    out: dict[str, Any] = {}
    for name, value in asdict(f).items():
        if value in (None, (), False):
            continue
        out[name] = list(value) if isinstance(value, tuple) else (
            value.isoformat() if hasattr(value, "isoformat") else value)
    return out

