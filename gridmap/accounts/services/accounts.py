"""Creating accounts (administrators, the CLI, the demo): every rule of a role's scope checked
and every problem reported at once; nothing is written unless all of it is right."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import AREA_LEVEL, Principal, Role, area_rule
from gridmap.accounts import credentials
from gridmap.accounts.repositories import people as repo
from gridmap.accounts.services.audit import Event, record
from gridmap.db import unit_of_work
from gridmap.errors import InvalidInput

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PERSON_ROLE = {Role.GRID_WORKER: "grid_worker", Role.DEPARTMENT_STAFF: "department_staff",
               Role.COMMUNITY_STAFF: "community_secretary"}
"""The post recorded for a new person by account role; other roles are office ``staff``."""


@dataclass(frozen=True)
class NewAccount:
    """An account to create, for an existing person (``person_id``) or a new one (``name``)."""

    username: str
    role: str
    person_id: int | None = None
    name: str = ""
    phone: str = ""
    area_code: str | None = None
    department_code: str | None = None
    password: str | None = None
    """None: a one-time password is generated and must be changed at first sign-in."""


def parse_role(raw: str, problems: list[str]) -> Role | None:
    """The role named ``raw``, or None with the problem appended."""
    try:
        return Role(raw)
    except ValueError:
        problems.append(f"未知岗位 '{raw}'，可选：{', '.join(Role)} (unknown role)")
        return None


def _check_area(session: Session, role: Role, area: str | None, problems: list[str]) -> None:
    rule = area_rule(role)
    if rule == "none":
        if area:
            problems.append(f"{role} 不设管辖范围 (a {role} account has no area)")
        return
    if rule == "district_or_city" and not area:
        return
    level = AREA_LEVEL.get(role, codes.Level.DISTRICT)
    if not area or not codes.is_code(area, level):
        problems.append(f"{role} 须指定 {codes.width(level)} 位{level}代码 "
                        f"(a {role} account needs a {codes.width(level)}-digit {level} code)")
    elif not repo.area_exists(session, level, area):
        problems.append(f"辖区 {area} 不存在 (no {level} {area} in the territory)")


def check_scope(session: Session, role: Role, area: str | None, department: str | None,
                problems: list[str]) -> None:
    """Append what is wrong with ``area`` and ``department`` for an account of ``role``."""
    _check_area(session, role, area, problems)
    if (role is Role.DEPARTMENT_STAFF) != bool(department):
        problems.append("部门工作人员须指定部门，其他岗位不指定 "
                        "(department staff, and only they, name a department)")
    elif department and not repo.department_exists(session, department):
        problems.append(f"部门 {department} 不存在 (unknown department)")


def _problems(session: Session, new: NewAccount, role: Role | None) -> list[str]:
    problems: list[str] = []
    if not USERNAME.fullmatch(new.username):
        problems.append("用户名须为 2–64 位小写字母、数字、点、横线或下划线 "
                        "(user name: 2–64 of a-z 0-9 . - _)")
    elif repo.username_taken(session, new.username):
        problems.append(f"用户名 {new.username} 已被使用 (user name taken)")
    if role is not None:
        check_scope(session, role, new.area_code, new.department_code, problems)
    if new.person_id is not None:
        if repo.person(session, new.person_id) is None:
            problems.append(f"人员 {new.person_id} 不存在 (no such person)")
        elif repo.has_account(session, new.person_id):
            problems.append(f"人员 {new.person_id} 已有账号 (the person already has an account)")
    elif not new.name.strip():
        problems.append("请填写姓名，或选择已有人员 (a name, or an existing person, is required)")
    if new.password is not None:
        problem = credentials.password_problem(new.password, username=new.username)
        if problem:
            problems.append(problem)
    return problems


def create(factory: sessionmaker[Session], principal: Principal, new: NewAccount) -> dict[str, Any]:
    """Create the account (and its person when new); its id, user name and one-time password.

    Raises
    ------
    InvalidInput
        Listing every problem with the request.
    """
    with unit_of_work(factory) as session:
        role = parse_role(new.role, problems := [])
        problems += _problems(session, new, role)
        if problems or role is None:
            raise InvalidInput("；".join(problems))
        person_id = new.person_id
        if person_id is None:
            community = new.area_code if role is Role.COMMUNITY_STAFF else None
            person_id = repo.add_person(
                session, name=new.name.strip(), phone=new.phone.strip()[:20],
                role=PERSON_ROLE.get(role, "staff"), department_code=new.department_code,
                community_code=community)
        password = new.password or credentials.one_time_password()
        account_id = repo.add_account(
            session, username=new.username, person_id=person_id, role=role.value,
            area_code=new.area_code or None, department_code=new.department_code,
            password_hash=credentials.hash_password(password), must_change=new.password is None)
        record(session, principal, Event.ACCOUNT_CREATED, target_kind="account",
               target_id=account_id, detail={"before": None, "after": {
                   "username": new.username, "role": role.value,
                   "area_code": new.area_code or None, "department_code": new.department_code,
                   "person_id": person_id, "new_person": new.person_id is None}})
    return {"id": account_id, "username": new.username, "person_id": person_id,
            "password": password if new.password is None else None}
