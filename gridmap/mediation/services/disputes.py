"""Disputes: who reads them, a new dispute accepted at a point, a point's list and one dispute.

Every function that returns parties unmasked first checks :func:`rules.may_see_parties` (the
point's staff, or the dispute's mediators) and writes an audit entry in the same unit of work,
so no reveal goes unlogged; everyone else who reads disputes gets them masked, without the
free text (summary, notes, agreement) that may name people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.accounts.services import audit
from gridmap.cases.services import queries as case_queries
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from gridmap.mediation import rules
from gridmap.mediation.repositories import mediation as repo

LIST_LIMIT = 200
"""Disputes shown in a point's list (open first, then the newest)."""
_NOT_FOUND = "未找到该纠纷 (no such dispute)"
_HIDDEN = ("summary", "outcome_note")


@dataclass(frozen=True)
class Party:
    """A party as typed: applicant (申请人) or respondent (被申请人)."""

    role: str
    name: str
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class DisputeRequest:
    """A new dispute accepted at a point."""

    kind: str
    summary: str
    parties: Sequence[Party]
    community_code: str = ""       # where it arose; a community point's own area by default
    case_id: int | None = None     # the case it comes from (转评理说事)
    mediators: Sequence[str] = field(default_factory=tuple)  # account names of its mediators


def reader(principal: Principal) -> Principal:
    """``principal`` if their role reads disputes at all (parties masked unless allowed).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For roles that see only counts (planners, data officers, administrators).
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*rules.MEDIATION_ROLES):
        raise Forbidden("您的岗位不能查看纠纷案件，只能查看数量 (your role cannot see disputes, "
                        "only counts)")
    return principal


def person_of(who: Principal) -> int:
    """The principal's person id (every write names one)."""
    if who.person_id is None:
        raise Forbidden("此账号未关联人员，不能登记 (this account is no person and cannot record)")
    return who.person_id


def present(row: dict[str, Any], parties: list[dict[str, Any]], *, shown: bool) -> dict[str, Any]:
    """A dispute as the reader may see it: parties unmasked, or masked without free text."""
    out = {k: v for k, v in row.items() if k != "mediator_ids"}
    if shown:
        return {**out, "parties": parties, "masked": False}
    for key in _HIDDEN:
        if key in out:
            out[key] = None
    return {**out, "parties": [rules.mask_party(p) for p in parties], "masked": True}


def mediator_problems(session: Session, usernames: Sequence[str]) -> tuple[list[int], str | None]:
    """Person ids of the accounts named mediators, or the problem with the names."""
    names = sorted({u.strip() for u in usernames if u.strip()})
    if len(names) > rules.MAX_MEDIATORS:
        return [], f"调解员最多 {rules.MAX_MEDIATORS} 人 (at most {rules.MAX_MEDIATORS} mediators)"
    found = repo.people_by_username(session, names)
    unknown = [n for n in names if n not in found]
    unfit = [n for n, (_, role) in found.items() if role not in rules.MEDIATION_ROLES]
    if unknown or unfit:
        shown = "、".join(n[:rules.MAX_USERNAME] for n in (unknown + unfit)[:5])
        return [], (f"以下账号不存在或不能担任调解员：{shown} (unknown accounts, or roles that "
                    "cannot mediate)")
    return [found[n][0] for n in names], None


def _party_problems(parties: Sequence[Party]) -> str | None:
    if not 2 <= len(parties) <= rules.MAX_PARTIES:
        return (f"请填写 2 至 {rules.MAX_PARTIES} 名当事人 (give 2 to {rules.MAX_PARTIES} "
                "parties)")
    roles = {p.role for p in parties}
    if not roles <= set(rules.PARTY_ROLES) or len(roles) < len(rules.PARTY_ROLES):
        return "当事人须至少有一名申请人和一名被申请人 (at least one applicant and one respondent)"
    for p in parties:
        if not p.name.strip() or len(p.name.strip()) > rules.MAX_NAME:
            return f"当事人姓名须为 1 至 {rules.MAX_NAME} 个字符 (party names: 1-{rules.MAX_NAME})"
        if len(p.phone.strip()) > rules.MAX_PHONE or not rules.check_phone(p.phone.strip()):
            return "当事人电话格式不正确 (a party's phone is not a phone number)"
        if len(p.address.strip()) > rules.MAX_ADDRESS:
            return f"当事人住址最多 {rules.MAX_ADDRESS} 个字符 (address too long)"
    return None


def _community(session: Session, request: DisputeRequest, point: dict[str, Any],
               case_community: str | None) -> tuple[str, str | None]:
    code = case_community or request.community_code.strip() or (
        point["area_code"] if point["level"] == rules.Level.COMMUNITY else "")
    if not code:
        return "", "请选择纠纷发生的社区 (choose the community where the dispute arose)"
    if not code.startswith(point["area_code"]) or repo.community_name(session, code) is None:
        return "", "纠纷发生地须为本调解点辖区内的社区 (the community must lie in the point's area)"
    return code, None


def _case(session: Session, who: Principal, case_id: int | None) -> tuple[str | None, str | None]:
    if case_id is None:
        return None, None
    try:
        case = case_queries.readable_case(session, who, case_id)
    except (NotFound, Forbidden):
        return None, "未找到该案件或不在您的辖区内 (no such case in your scope)"
    return str(case.community_code), None


def accept_new(factory: sessionmaker[Session], principal: Principal, point_id: int,
               request: DisputeRequest) -> dict[str, Any]:
    """Accept (受理) a new dispute at a point: its parties, mediators and the first step.

    Raises
    ------
    NotFound
        No such point.
    Forbidden
        The principal is not staff whose scope holds the point's area.
    InvalidInput
        Every problem of the request at once.
    Conflict
        The case named is already a dispute.
    """
    who = reader(principal)
    with unit_of_work(factory) as session:
        point = repo.point(session, point_id)
        if point is None:
            raise NotFound("未找到该调解点 (no such mediation point)")
        if not rules.is_point_staff(who, str(point["area_code"])):
            raise Forbidden("只有调解点所在辖区的工作人员可以受理纠纷 (only staff whose scope holds "
                            "the point's area accept disputes)")
        actor = person_of(who)
        problems: dict[str, str] = {}
        if request.kind not in rules.KINDS:
            problems["kind"] = f"纠纷类型可选：{', '.join(rules.KINDS)} (unknown kind)"
        if not request.summary.strip() or len(request.summary.strip()) > rules.MAX_SUMMARY:
            problems["summary"] = (f"请填写纠纷事由（最多 {rules.MAX_SUMMARY} 字） (summary is "
                                   f"required, at most {rules.MAX_SUMMARY} characters)")
        if (party_problem := _party_problems(request.parties)) is not None:
            problems["parties"] = party_problem
        case_community, case_problem = _case(session, who, request.case_id)
        if case_problem is not None:
            problems["case_id"] = case_problem
        community, community_problem = _community(session, request, point, case_community)
        if community_problem is not None:
            problems["community"] = community_problem
        mediator_ids, mediator_problem = mediator_problems(session, request.mediators)
        if mediator_problem is not None:
            problems["mediators"] = mediator_problem
        if problems:
            raise InvalidInput("；".join(problems.values()), fields=problems)
        if request.case_id is not None and (linked := repo.dispute_of_case(session, request.case_id)):
            raise Conflict(f"该案件已转评理说事（纠纷 #{linked}） (this case is already dispute "
                           f"#{linked})")
        now = datetime.now(UTC)
        dispute_id = repo.insert_dispute(session, {
            "point_id": point_id, "community_code": community, "kind": request.kind,
            "summary": request.summary.strip(), "state": rules.State.ACCEPTED.value,
            "case_id": request.case_id, "created_by": actor, "accepted_at": now,
            "accepted_by": actor})
        repo.insert_parties(session, dispute_id, [
            {"role": p.role, "name": p.name.strip(), "phone": p.phone.strip(),
             "address": p.address.strip()} for p in request.parties])
        repo.add_mediators(session, dispute_id, mediator_ids)
        repo.insert_event(session, {
            "dispute_id": dispute_id, "action": "create", "from_state": None,
            "to_state": rules.State.ACCEPTED.value, "actor_id": actor,
            "payload": {"case_id": request.case_id} if request.case_id else {}})
    return {"id": dispute_id, "state": rules.State.ACCEPTED.value}


def at_point(factory: sessionmaker[Session], principal: Principal, point_id: int,
             state: str) -> dict[str, Any]:
    """A point's disputes; parties unmasked only where allowed, and then logged."""
    who = reader(principal)
    with unit_of_work(factory) as session:
        point = repo.point(session, point_id)
        if point is None:
            raise NotFound("未找到该调解点 (no such mediation point)")
        rows = repo.disputes_at(session, point_id, state=state, limit=LIST_LIMIT)
        area = str(point["area_code"])
        out, revealed = [], []
        for row in rows:
            shown = rules.may_see_parties(who, area, frozenset(row["mediator_ids"] or ()))
            out.append(present(row, list(row.pop("parties")), shown=shown))
            if shown:
                revealed.append(row["id"])
        if revealed:
            audit.record(session, who, audit.Event.DISPUTE_PARTIES_VIEWED,
                         target_kind="mediation_point", target_id=point_id,
                         detail={"disputes": revealed})
    return {"point": point, "staff": rules.is_point_staff(who, area), "limit": LIST_LIMIT,
            "disputes": out}


def detail(factory: sessionmaker[Session], principal: Principal,
           dispute_id: int) -> dict[str, Any]:
    """One dispute with parties, mediators, sessions, history and the steps open to the reader;
    parties unmasked only where allowed, and then logged."""
    who = reader(principal)
    with unit_of_work(factory) as session:
        found = repo.dispute(session, dispute_id)
        if found is None:
            raise NotFound(_NOT_FOUND)
        mediators = repo.mediators(session, dispute_id)
        area = str(found["point_area"])
        ids = frozenset(int(m["id"]) for m in mediators)
        shown = rules.may_see_parties(who, area, ids)
        out = present(found, repo.parties(session, dispute_id), shown=shown)
        out["mediators"] = mediators
        out["sessions"] = [s if shown else {**s, "note": None}
                           for s in repo.sessions(session, dispute_id)]
        out["events"] = [e if shown else {**e, "note": None}
                         for e in repo.events(session, dispute_id)]
        staff = rules.is_point_staff(who, area)
        mediator = who.person_id is not None and who.person_id in ids
        out["actions"] = rules.allowed_actions(rules.State(found["state"]), staff=staff,
                                               mediator=mediator)
        if shown:
            audit.record(session, who, audit.Event.DISPUTE_PARTIES_VIEWED,
                         target_kind="dispute", target_id=dispute_id,
                         detail={"point": found["point_id"]})
    return out
