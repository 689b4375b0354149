"""Administering accounts: list and search, change a role or scope, deactivate and reactivate,
reset a password. Administrators only (:mod:`rights`); every change is one transaction with its
audit entry, whose ``detail`` holds the values before and after.

A change of role or scope, a deactivation and a password reset raise the account's session epoch,
so every session of that person ends at its next request (``accounts/web/session.py``). A
deactivation also revokes every API token, and a grid worker's open cases that their grids own
go back to the community to reassign, each with a ``return`` event by the administrator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts import credentials
from gridmap.accounts.repositories import accounts as repo
from gridmap.accounts.repositories import assignments as assignment_repo
from gridmap.accounts.repositories import cases as case_repo
from gridmap.accounts.repositories import people as people_repo
from gridmap.accounts.repositories import tokens as token_repo
from gridmap.accounts.services import principals, rights
from gridmap.accounts.services.accounts import PERSON_ROLE, check_scope, parse_role
from gridmap.accounts.services.audit import Event, record
from gridmap.accounts.services.paging import PAGE_SIZE, Page, cut, query_text
from gridmap.cases.workflow import State
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, InvalidInput, NotFound

RETURN_NOTE = "网格员账号停用，退回社区重新分派"
"""The note of the ``return`` event of each case a deactivated grid worker leaves behind."""
RETURNED_FROM = (State.DISPATCHED.value, State.IN_PROGRESS.value)
"""States of a grid-owned case that go back to the community when its grid worker leaves
(suspended cases stay suspended: the community paused them and resumes them itself)."""
_LAST_ADMIN = ("这是最后一个有效的系统管理员账号，不能停用或改为其他岗位 "
               "(this is the last active administrator account)")


def search(session: Session, principal: Principal, *, query: str = "", role: str = "",
           after: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """Accounts by user name, matching ``query`` in the user name or the person's name."""
    rights.admin(principal)
    if role and role not in {r.value for r in Role}:
        raise InvalidInput(f"未知岗位 '{role[:24]}' (unknown role)")
    rows = repo.page(session, query=query_text(query), role=role or None,
                     after=(after or "")[:64] or None, limit=limit + 1)
    return cut(rows, limit, lambda row: row["username"])


PEOPLE_PAGE_SIZE = 20
"""People per page when looking someone up (short, to scroll on a phone)."""


def people(session: Session, principal: Principal, *, query: str = "", after: str | None = None,
           limit: int = PEOPLE_PAGE_SIZE) -> Page:
    """People by id whose name contains ``query`` (or whose id it is), with their accounts."""
    rights.admin(principal)
    digits = after is not None and after.isascii() and after.isdigit() and len(after) <= 18
    start = int(after) if after and digits else None
    rows = people_repo.search(session, query=query_text(query), after=start, limit=limit + 1)
    return cut(rows, limit, lambda row: row["id"])


def departments(session: Session) -> list[dict[str, Any]]:
    """Every department (for the pages' choices)."""
    return people_repo.departments(session)


def account_id(session: Session, principal: Principal, username: str) -> int:
    """The id of the account named ``username`` (for the command line)."""
    rights.admin(principal)
    account = repo.by_username(session, username.strip().lower())
    if account is None:
        raise NotFound(f"账号 {username[:64]} 不存在 (no such account)")
    return account.id


def acting_admin(session: Session, principal: Principal, username: str) -> Principal:
    """The active administrator account ``username`` as the principal a command acts as
    (``gridmap user deactivate --by``); the audit log names both it and the operator."""
    rights.admin(principal)
    account = repo.by_username(session, username.strip().lower())
    signed = principals.load(session, account.id, address=None) if account else None
    if signed is None or not signed.principal.has(Role.ADMIN):
        raise InvalidInput(f"{username[:64]} 不是有效的系统管理员账号 "
                           "(not an active administrator account)")
    label = f"{signed.principal.username}/{principal.username}"[:64]
    return replace(signed.principal, username=label)


def detail(session: Session, principal: Principal, account_id: int) -> dict[str, Any]:
    """One account with its person, the grids it serves or is enrolled in, its tokens, and how
    many cases a deactivation would return to the community."""
    rights.admin(principal)
    found = repo.listed(session, account_id)
    if found is None:
        raise NotFound(f"账号 {account_id} 不存在 (no such account)")
    person_id = found["person_id"]
    found["served_grids"] = assignment_repo.served_grids(session, person_id)
    found["enrolled_grids"] = assignment_repo.enrolled_grids(session, person_id)
    found["tokens"] = token_repo.tokens_of(session, account_id)
    found["returnable_cases"] = (
        case_repo.returnable_grid_cases(session, person_id=person_id, states=RETURNED_FROM)
        if found["role"] == Role.GRID_WORKER and found["active"] else 0)
    return found


def _locked(session: Session, account_id: int) -> Any:
    account = repo.get(session, account_id, for_update=True)
    if account is None:
        raise NotFound(f"账号 {account_id} 不存在 (no such account)")
    return account


def _scope(account: Any) -> dict[str, Any]:
    return {"role": account.role, "area_code": account.area_code,
            "department_code": account.department_code}


@dataclass(frozen=True)
class ScopeChange:
    """A new role and scope for an account."""

    role: str
    area_code: str | None = None
    department_code: str | None = None


def change(factory: sessionmaker[Session], principal: Principal, account_id: int,
           new: ScopeChange) -> dict[str, Any]:
    """Set an account's role and scope (its person's post follows); its sessions end.

    Returns ``{"before", "after", "changed"}``; nothing is written when nothing changes.

    Raises
    ------
    InvalidInput
        Listing every problem: the role, area or department, or memberships the old role still
        holds (a grid worker's grids, a department's enrolments: reassign those first).
    Conflict
        When it would leave no active administrator.
    """
    rights.admin(principal)
    area = (new.area_code or "").strip() or None
    department = (new.department_code or "").strip() or None
    with unit_of_work(factory) as session:
        admins = repo.active_admins(session)  # locked first, always in one order
        account = _locked(session, account_id)
        problems: list[str] = []
        role = parse_role(new.role, problems)
        if role is not None:
            check_scope(session, role, area, department, problems)
            problems += _held(session, account, role, department)
        if problems or role is None:
            raise InvalidInput("；".join(problems))
        before = _scope(account)
        after = {"role": role.value, "area_code": area, "department_code": department}
        if before == after:
            return {"before": before, "after": after, "changed": False}
        if account.role == Role.ADMIN and role is not Role.ADMIN and account.active \
                and admins <= 1:
            raise Conflict(_LAST_ADMIN)
        repo.change_scope(session, account.id, role=role.value, area_code=area,
                          department_code=department)
        person = people_repo.person(session, account.person_id)
        assert person is not None  # account.person_id is a foreign key
        community = area if role is Role.COMMUNITY_STAFF else person.community_code
        people_repo.set_post(session, account.person_id, role=PERSON_ROLE.get(role, "staff"),
                             department_code=department, community_code=community)
        record(session, principal, Event.ACCOUNT_CHANGED, target_kind="account",
               target_id=account.id, detail={"username": account.username, "before": before,
                                             "after": after})
    return {"before": before, "after": after, "changed": True}


def _held(session: Session, account: Any, role: Role, department: str | None) -> list[str]:
    """Memberships of the old role that the new one could not hold (reassign them first)."""
    problems = []
    if account.role == Role.GRID_WORKER and role is not Role.GRID_WORKER:
        served = assignment_repo.served_grids(session, account.person_id)
        if served:
            problems.append(f"此人仍是 {len(served)} 个网格的网格员，请先在网格分配中更换 "
                            f"(the person still serves {len(served)} grids: reassign them first)")
    if account.role == Role.DEPARTMENT_STAFF and department != account.department_code:
        enrolled = assignment_repo.enrolled_grids(session, account.person_id)
        if enrolled:
            problems.append(f"此人仍在 {len(enrolled)} 个网格报到，请先在网格分配中更换 "
                            f"(the person is still enrolled in {len(enrolled)} grids: reassign "
                            "them first)")
    return problems


def deactivate(factory: sessionmaker[Session], principal: Principal,
               account_id: int) -> dict[str, Any]:
    """Deactivate an account: its sessions end, its tokens are revoked, and a grid worker's
    grid-owned open cases go back to the community (state ``returned``, no owner, a ``return``
    event by ``principal``'s person). Returns the returned case ids and the tokens revoked.

    Raises
    ------
    Conflict
        The account is already inactive, is the caller's own, or is the last administrator.
    InvalidInput
        Cases must be returned but ``principal`` has no person to record as their actor (the
        command line without ``--by``).
    """
    rights.admin(principal)
    if account_id == principal.account_id:
        raise Conflict("不能停用自己的账号 (you cannot deactivate your own account)")
    with unit_of_work(factory) as session:
        admins = repo.active_admins(session)  # locked first, always in one order
        account = _locked(session, account_id)
        if not account.active:
            raise Conflict("账号已是停用状态 (the account is already deactivated)")
        if account.role == Role.ADMIN and admins <= 1:
            raise Conflict(_LAST_ADMIN)
        repo.set_active(session, account.id, False)
        revoked = token_repo.revoke_all(session, account.id)
        returned = _return_cases(session, principal, account)
        record(session, principal, Event.ACCOUNT_DEACTIVATED, target_kind="account",
               target_id=account.id, detail={
                   "username": account.username, "before": {"active": True},
                   "after": {"active": False}, "tokens_revoked": revoked,
                   "returned_cases": returned})
    return {"returned_cases": returned, "tokens_revoked": revoked}


def _return_cases(session: Session, principal: Principal, account: Any) -> list[int]:
    if account.role != Role.GRID_WORKER:
        return []
    person_id = account.person_id
    if principal.person_id is None:
        if case_repo.returnable_grid_cases(session, person_id=person_id, states=RETURNED_FROM):
            raise InvalidInput("此网格员有案件需退回社区，须以管理员账号操作以记录操作人 "
                               "(the grid worker's open cases go back to the community and "
                               "need an administrator's account as their actor: use --by)")
        return []
    return case_repo.return_grid_cases(
        session, person_id=person_id, states=RETURNED_FROM, actor_id=principal.person_id,
        account_id=account.id, note=RETURN_NOTE)


def reactivate(factory: sessionmaker[Session], principal: Principal, account_id: int) -> None:
    """Let a deactivated account sign in again (its tokens stay revoked).

    Raises
    ------
    Conflict
        The account is active.
    """
    rights.admin(principal)
    with unit_of_work(factory) as session:
        account = _locked(session, account_id)
        if account.active:
            raise Conflict("账号未停用 (the account is active)")
        repo.set_active(session, account.id, True)
        record(session, principal, Event.ACCOUNT_REACTIVATED, target_kind="account",
               target_id=account.id, detail={"username": account.username,
                                             "before": {"active": False},
                                             "after": {"active": True}})


def reset_password(factory: sessionmaker[Session], principal: Principal, account_id: int) -> str:
    """A new one-time password for the account (shown once, changed at next sign-in); every
    session of the account ends."""
    rights.admin(principal)
    password = credentials.one_time_password()
    password_hash = credentials.hash_password(password)  # slow: before the row is locked
    with unit_of_work(factory) as session:
        account = _locked(session, account_id)
        before = account.must_change_password
        repo.set_password(session, account.id, password_hash, must_change=True)
        record(session, principal, Event.PASSWORD_RESET, target_kind="account",
               target_id=account.id, detail={"username": account.username,
                                             "before": {"must_change_password": before},
                                             "after": {"must_change_password": True}})
    return password
