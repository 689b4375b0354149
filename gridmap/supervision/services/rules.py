"""The escalation rules as an administrator sees and changes them (督办规则).

The chain itself (which deadline, from which level to which) is the city's structure and is
fixed by the migration; an administrator sets how many hours past its deadline each rule waits,
and may switch a rule off. A change applies from the job's next run; notices already given
stay (a rule fires once per case). Every change is in the audit log with before and after.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts.services import audit
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from gridmap.supervision.repositories import rules as repo

MAX_HOURS = 24 * 365
"""A rule waits at most a year past its deadline (beyond that, switch it off)."""


def _admin(principal: Principal) -> None:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(Role.ADMIN):
        raise Forbidden("只有系统管理员可以修改督办规则 (only administrators change the rules)")


def listing(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Every rule in the chain's order (administrators)."""
    _admin(principal)
    return repo.rules(session)


def parse_hours(raw: str) -> float:
    """Hours past the deadline: a number from 0 to :data:`MAX_HOURS` (a decimal point allowed).

    Raises
    ------
    InvalidInput
        Anything else, said plainly.
    """
    try:
        hours = float(raw.strip())
    except ValueError:
        raise InvalidInput(f"小时数应为数字，例如 24 (hours must be a number, e.g. 24): "
                           f"{raw.strip()[:20]!r}") from None
    if not math.isfinite(hours) or not 0 <= hours <= MAX_HOURS:
        raise InvalidInput(f"小时数应在 0 到 {MAX_HOURS} 之间 "
                           f"(hours must be from 0 to {MAX_HOURS})")
    return hours


def change(factory: sessionmaker[Session], principal: Principal, code: str, *,
           after_hours: str, active: bool) -> bool:
    """Change rule ``code``; whether anything changed.

    Raises
    ------
    NotFound
        No rule of ``code``.
    InvalidInput
        Hours that are not a number from 0 to a year.
    """
    _admin(principal)
    hours = parse_hours(after_hours)
    with unit_of_work(factory) as session:
        rule = repo.locked(session, code)
        if rule is None:
            raise NotFound(f"没有督办规则 {code} (no such rule)")
        before = {"after_hours": rule["after_hours"], "active": rule["active"]}
        after = {"after_hours": hours, "active": active}
        if before == after:
            return False
        repo.change(session, code, after_hours=hours, active=active)
        audit.record(session, principal, audit.Event.SUPERVISION_RULE_CHANGED,
                     target_kind="supervision_rule", target_id=code,
                     detail={"before": before, "after": after})
    return True
