"""The in-app inbox: each person reads and marks their own items, nobody else's.

Items are filed by the escalation job (supervision notices) and by the case workflow when a
case is dispatched, whistled to a department or returned (:func:`file_for_transition`, called
inside the action's own transaction, so an item exists exactly when the action committed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.db import unit_of_work
from gridmap.errors import NotFound, Unauthorized
from gridmap.supervision.repositories import inbox as repo

LIST_LIMIT = 200
"""Most items one listing answers (unread first, so none unread is hidden behind read ones)."""
KINDS = ("supervision", "dispatch", "whistle", "return")


def _person(principal: Principal) -> int:
    if not principal.signed_in or principal.person_id is None:
        raise Unauthorized(Unauthorized.MESSAGE)
    return principal.person_id


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public(row: dict[str, Any]) -> dict[str, Any]:
    """An item as the API answers it."""
    return {"id": row["id"], "kind": row["kind"], "case_id": row["case_id"], "text": row["text"],
            "created_at": _iso(row["created_at"]), "read_at": _iso(row["read_at"]),
            "read": row["read_at"] is not None}


def listing(factory: sessionmaker[Session], principal: Principal, *, unread_only: bool = False,
            limit: int = LIST_LIMIT) -> dict[str, Any]:
    """The caller's items (unread first, then newest) and their unread count."""
    person = _person(principal)
    with factory() as session:
        rows = repo.items(session, person, unread_only=unread_only, limit=limit)
        unread = repo.unread_count(session, person)
    return {"items": [public(r) for r in rows], "unread": unread}


def unread_count(factory: sessionmaker[Session], principal: Principal) -> int:
    """How many of the caller's items are unread (0 for the public: the header asks anyway)."""
    if not principal.signed_in or principal.person_id is None:
        return 0
    with factory() as session:
        return repo.unread_count(session, principal.person_id)


def mark_read(factory: sessionmaker[Session], principal: Principal,
              item_id: int) -> dict[str, Any]:
    """Mark one of the caller's items read; 404 for an item that is not theirs."""
    person = _person(principal)
    with unit_of_work(factory) as session:
        row = repo.mark_read(session, person, item_id, datetime.now(UTC))
        if row is None:
            raise NotFound(f"消息 {item_id} 不存在 (inbox item not found)")
        unread = repo.unread_count(session, person)
    return {"item": public(row), "unread": unread}


def mark_all_read(factory: sessionmaker[Session], principal: Principal) -> dict[str, Any]:
    """Mark all the caller's items read."""
    person = _person(principal)
    with unit_of_work(factory) as session:
        marked = repo.mark_all_read(session, person, datetime.now(UTC))
    return {"marked": marked, "unread": 0}


def file_items(session: Session, *, person_ids: Iterable[int], kind: str, case_id: int | None,
               text: str, dedupe_key: str) -> int:
    """File an item for each person in the caller's transaction (once per key and person)."""
    if kind not in KINDS:
        raise ValueError(f"unknown inbox kind {kind!r}")
    return repo.file_items(session, person_ids=person_ids, kind=kind, case_id=case_id,
                           text_=text, dedupe_key=dedupe_key)


_ACTION_TEXT = {
    "dispatch": ("dispatch", "新分派：案件 {id} 已分派给您 (new dispatch: case {id} was sent to you)"),
    "reassign": ("dispatch", "改派：案件 {id} 已改派给您 (reassigned: case {id} was sent to you)"),
    "whistle": ("whistle", "吹哨：案件 {id} 召集您的部门协办 "
                           "(whistle: your department is called in on case {id})"),
    "return": ("return", "退回：案件 {id} 已被退回，请重新分派 "
                         "(returned: case {id} was sent back; dispatch it again)"),
}
"""Case actions that file inbox items: the item's kind and text (Chinese first)."""


def file_for_case_action(session: Session, *, case_id: int, version: int, grid_code: str,
                         action: str, payload: Mapping[str, object],
                         owner_person_id: int | None, actor_id: int | None) -> int:
    """File the inbox items a case action causes, in the action's own transaction.

    A dispatch or reassignment goes to the new owner (the grid's worker, or the people the
    department sends to the grid); a whistle to the people of each department called in; a
    return to whoever last dispatched the case. The actor is never told of their own action.
    ``version`` (the case's version after the action) makes each item unique, so a retried
    write cannot file it twice. Returns how many items were filed.
    """
    if action not in _ACTION_TEXT:
        return 0
    kind, template = _ACTION_TEXT[action]
    people: set[int] = set()
    if kind == "dispatch":
        department = payload.get("department")
        if isinstance(department, str) and department:
            people.update(repo.department_staff(session, grid_code, department))
        elif owner_person_id is not None:
            people.add(owner_person_id)
    elif kind == "whistle":
        departments = payload.get("departments")
        for code in departments if isinstance(departments, list) else []:
            people.update(repo.department_staff(session, grid_code, str(code)))
    else:
        sender = repo.last_sender(session, case_id)
        if sender is not None:
            people.add(sender)
    people.discard(actor_id)
    return file_items(session, person_ids=people, kind=kind, case_id=case_id,
                      text=template.format(id=case_id), dedupe_key=f"{kind}:{case_id}:{version}")
