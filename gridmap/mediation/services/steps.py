"""A dispute's steps after it is accepted: accept a referral, hold a session, reach an
agreement, refer up, refer to court.

Each step is one unit of work on the dispute's row locked ``FOR UPDATE``, so two people acting
at once run one after the other and the second sees the first's state; its history entry (and,
for a referral, the next level's dispute) is written in the same transaction or not at all.

Check order: unknown action (400) → the state does not allow it (409) → this person may not
(403) → the step's own input (400), every problem at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridmap.mediation import rules
from gridmap.mediation.repositories import mediation as repo
from gridmap.mediation.services import disputes

NOTE_REQUIRED = frozenset({rules.Action.SESSION, rules.Action.AGREE, rules.Action.REFER_UP,
                           rules.Action.REFER_COURT})
"""Steps that need a note: the session's record, the agreement's terms, the reason to refer."""


@dataclass(frozen=True)
class StepRequest:
    """A step as the page or a script sends it."""

    action: str
    note: str = ""
    held_on: date | None = None                                   # a session's day
    present: Sequence[str] = field(default_factory=tuple)         # mediators present, by name
    mediators: Sequence[str] = field(default_factory=tuple)       # accounts named mediators


def _action(raw: str) -> rules.Action:
    try:
        return rules.Action(raw)
    except ValueError:
        raise InvalidInput(f"未知的步骤，可选：{', '.join(a.value for a in rules.Action)} "
                           "(unknown action)", fields={"action": "unknown"}) from None


def _problems(session: Session, action: rules.Action, request: StepRequest,
              found: dict[str, Any]) -> tuple[dict[str, str], list[int]]:
    problems: dict[str, str] = {}
    note = request.note.strip()
    if action in NOTE_REQUIRED and not note:
        problems["note"] = {
            rules.Action.SESSION: "请填写调解记录 (note the session)",
            rules.Action.AGREE: "请填写协议内容 (write the agreement's terms)",
        }.get(action, "请填写原因 (give the reason)")
    if len(note) > rules.MAX_NOTE:
        problems["note"] = f"最多 {rules.MAX_NOTE} 个字符 (note longer than {rules.MAX_NOTE})"
    if action is rules.Action.SESSION:
        today = rules.city_today(datetime.now(UTC))
        accepted = found["accepted_at"]
        earliest = rules.city_today(accepted) if accepted is not None else today
        if request.held_on is None or not earliest <= request.held_on <= today:
            problems["held_on"] = (f"调解日期须在受理日 {earliest} 与今天之间 (held_on must lie "
                                   f"between {earliest} and today)")
        names = [n.strip() for n in request.present if n.strip()]
        if not 1 <= len(names) <= rules.MAX_MEDIATORS or any(
                len(n) > rules.MAX_NAME for n in names):
            problems["present"] = (f"请填写 1 至 {rules.MAX_MEDIATORS} 名参加调解的调解员 "
                                   f"(name 1-{rules.MAX_MEDIATORS} mediators present)")
    ids, problem = disputes.mediator_problems(session, request.mediators)
    if problem is not None:
        problems["mediators"] = problem
    return problems, ids


def take(factory: sessionmaker[Session], principal: Principal, dispute_id: int,
         request: StepRequest) -> dict[str, Any]:
    """Take one step on a dispute, all or nothing, with its history entry.

    Raises
    ------
    InvalidInput
        An unknown action, or the step's input (every problem at once).
    NotFound
        No such dispute.
    Conflict
        The step is not allowed from the dispute's state, or there is no point to refer up to.
    Forbidden
        The principal is neither the point's staff nor the dispute's mediator (or the step is
        the staff's alone).
    """
    who = disputes.reader(principal)
    action = _action(request.action)
    with unit_of_work(factory) as session:
        found = repo.dispute(session, dispute_id, lock=True)
        if found is None:
            raise NotFound("未找到该纠纷 (no such dispute)")
        state = rules.State(found["state"])
        after = rules.step(state, action, sessions=repo.session_count(session, dispute_id))
        _authorise(session, who, found, action)
        actor = disputes.person_of(who)
        problems, mediator_ids = _problems(session, action, request, found)
        if problems:
            raise InvalidInput("；".join(problems.values()), fields=problems)
        repo.add_mediators(session, dispute_id, mediator_ids)
        return _apply(session, found, action, after, request, actor)


def _authorise(session: Session, who: Principal, found: dict[str, Any],
               action: rules.Action) -> None:
    staff = rules.is_point_staff(who, str(found["point_area"]))
    mediators = {int(m["id"]) for m in repo.mediators(session, int(found["id"]))}
    mediator = who.person_id is not None and who.person_id in mediators
    if action.value not in rules.allowed_actions(rules.State(found["state"]), staff=staff,
                                                  mediator=mediator):
        raise Forbidden("只有调解点所在辖区的工作人员或本纠纷的调解员可以执行此步骤；受理和上交"
                        "由辖区工作人员办理 (only the point's staff or the dispute's mediators "
                        "take this step; accepting and referring up are the staff's)")


def _apply(session: Session, found: dict[str, Any], action: rules.Action, after: rules.State,
           request: StepRequest, actor: int) -> dict[str, Any]:
    dispute_id, note = int(found["id"]), request.note.strip()
    now = datetime.now(UTC)
    values: dict[str, Any] = {"state": after.value}
    payload: dict[str, Any] = {}
    result: dict[str, Any] = {"id": dispute_id, "state": after.value}
    if action is rules.Action.ACCEPT:
        values.update(accepted_at=now, accepted_by=actor)
    elif action is rules.Action.SESSION:
        assert request.held_on is not None  # checked above
        payload["session_id"] = result["session_id"] = repo.insert_session(session, {
            "dispute_id": dispute_id, "held_on": request.held_on,
            "mediators": [n.strip() for n in request.present if n.strip()], "note": note,
            "recorded_by": actor})
    else:  # an outcome at this point
        values.update(closed_at=now, outcome_note=note)
    if action is rules.Action.REFER_UP:
        payload.update(_refer_up(session, found, actor))
        result["referred_to"] = payload["to_dispute"]
    repo.update_dispute(session, dispute_id, values)
    repo.insert_event(session, {
        "dispute_id": dispute_id, "action": action.value, "from_state": found["state"],
        "to_state": after.value, "actor_id": actor,
        "note": "" if action is rules.Action.SESSION else note, "payload": payload})
    return result


def _refer_up(session: Session, found: dict[str, Any], actor: int) -> dict[str, Any]:
    """Open the dispute, pending, at the next level's point (with its parties)."""
    level = rules.Level(found["point_level"])
    up = repo.point_for_area(session, rules.parent_area(str(found["point_area"]), level))
    if up is None:
        raise Conflict("上一级尚未设立评理说事点，不能上交 (the next level has no mediation "
                       "point yet)")
    new_id = repo.insert_dispute(session, {
        "point_id": up["id"], "community_code": found["community_code"], "kind": found["kind"],
        "summary": found["summary"], "state": rules.State.PENDING.value,
        "case_id": found["case_id"], "referred_from": found["id"], "created_by": actor})
    repo.copy_parties(session, int(found["id"]), new_id)
    repo.insert_event(session, {
        "dispute_id": new_id, "action": "create", "from_state": None,
        "to_state": rules.State.PENDING.value, "actor_id": actor,
        "payload": {"from_dispute": found["id"], "from_point": found["point_id"]}})
    return {"to_dispute": new_id, "to_point": up["id"]}
