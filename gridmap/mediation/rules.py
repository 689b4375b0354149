"""Mediation's rules as plain values and functions (no Flask, no database).

The steps of a dispute (:func:`step`), the three levels of mediation points and the next one
up (:func:`next_level`), who sees the parties unmasked (:func:`may_see_parties`), the masks
themselves, and the small-count suppression of the public counts.

A dispute's steps::

    pending ──accept──▶ accepted ──session──▶ in_mediation ──session──▶ in_mediation
                          │  │                    │  │  │
                          │  └─refer_court─┐      │  │  └──agree──▶ agreed
                          └────refer_up──┐ │      │  └─refer_court─▶ referred_to_court
                                         ▼ ▼      └────refer_up────▶ referred_up
                              referred_up / referred_to_court

A dispute accepted at a point starts ``accepted``; referring it up ends it at this point
(``referred_up``) and opens a ``pending`` dispute at the next level's point, which accepts it
(受理) before its own sessions. An agreement needs at least one session, so it is reached only
from ``in_mediation``; referring up or to court needs none (a point may see at once that a
dispute is beyond it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from gridmap import codes
from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.errors import Conflict, InvalidInput

CITY_TZ = timezone(timedelta(hours=8))
"""Months and years start at local midnight (China Standard Time, no daylight saving)."""


class State(StrEnum):
    """Where a dispute stands at its point."""

    PENDING = "pending"                      # 待受理: referred up, not yet accepted here
    ACCEPTED = "accepted"                    # 已受理
    IN_MEDIATION = "in_mediation"            # 调解中: one or more sessions held
    AGREED = "agreed"                        # 达成协议
    REFERRED_UP = "referred_up"              # 已上交 the next level's point
    REFERRED_TO_COURT = "referred_to_court"  # 引导诉讼


class Action(StrEnum):
    """A step a person takes on a dispute (the order of the page's buttons)."""

    ACCEPT = "accept"
    SESSION = "session"
    AGREE = "agree"
    REFER_UP = "refer_up"
    REFER_COURT = "refer_court"


class Level(StrEnum):
    """A mediation point's level, finest first (a dispute is referred up this order)."""

    COMMUNITY = "community"
    SUBDISTRICT = "subdistrict"
    DISTRICT = "district"


STATES: tuple[State, ...] = tuple(State)
OPEN_STATES = frozenset({State.PENDING, State.ACCEPTED, State.IN_MEDIATION})
"""Still being handled at this point."""
OUTCOMES = frozenset({State.AGREED, State.REFERRED_UP, State.REFERRED_TO_COURT})
"""How a dispute ends at a point (its outcome there)."""
TRANSITIONS: Mapping[tuple[State, Action], State] = {
    (State.PENDING, Action.ACCEPT): State.ACCEPTED,
    (State.ACCEPTED, Action.SESSION): State.IN_MEDIATION,
    (State.IN_MEDIATION, Action.SESSION): State.IN_MEDIATION,
    (State.IN_MEDIATION, Action.AGREE): State.AGREED,
    (State.ACCEPTED, Action.REFER_UP): State.REFERRED_UP,
    (State.IN_MEDIATION, Action.REFER_UP): State.REFERRED_UP,
    (State.ACCEPTED, Action.REFER_COURT): State.REFERRED_TO_COURT,
    (State.IN_MEDIATION, Action.REFER_COURT): State.REFERRED_TO_COURT,
}
"""Every allowed step: (state, action) -> the state after it. Nothing leaves an outcome."""
STAFF_ONLY = frozenset({Action.ACCEPT, Action.REFER_UP})
"""Steps only the point's staff take (a mediator records sessions and outcomes at the point
but does not accept disputes for it or hand them to another level)."""

LEVELS: tuple[Level, ...] = tuple(Level)
LEVEL_WIDTH: Mapping[Level, int] = {
    Level.COMMUNITY: codes.width(codes.Level.COMMUNITY),
    Level.SUBDISTRICT: codes.width(codes.Level.SUBDISTRICT),
    Level.DISTRICT: codes.width(codes.Level.DISTRICT),
}
"""A point's area code has its level's width (the migration's CHECK holds the same)."""

KINDS = ("neighbour", "family", "property", "tenancy", "debt", "labour", "other")
"""What a dispute is about (邻里, 婚姻家庭, 物业, 租赁, 债务, 劳务, 其他)."""
PARTY_ROLES = ("applicant", "respondent")
"""申请人, 被申请人: a dispute has at least one of each."""
MEDIATION_ROLES = SUPERVISORS | {Role.GRID_WORKER, Role.DEPARTMENT_STAFF}
"""Roles that may open the mediation page and read disputes (parties masked unless
:func:`may_see_parties`): territorial staff, grid workers and department staff, any of whom
may be named a dispute's mediator. Planners, data officers and administrators see counts."""
SMALL_COUNT = 5
"""Public counts below this are suppressed, as the care register's public counts are."""
MAX_PARTIES, MAX_MEDIATORS = 10, 10
MAX_NAME, MAX_PHONE, MAX_ADDRESS, MAX_SUMMARY, MAX_NOTE = 50, 20, 200, 2000, 2000
MAX_USERNAME = 64
"""Bounds of a party's name, phone and address, a summary, a note or agreement, and a
mediator's account name (the database CHECKs and column widths hold the same)."""
_PHONE = re.compile(r"^[0-9+\- ]{3,20}$")


def next_level(level: Level) -> Level | None:
    """The level a dispute is referred up to, None above the district."""
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def level_of_area(area_code: str) -> Level:
    """The point level whose area has ``area_code``'s width."""
    for level, width in LEVEL_WIDTH.items():
        if len(area_code) == width:
            return level
    raise InvalidInput("调解点区域代码须为区、街道或社区代码 (a point's area is a district, "
                       "sub-district or community code)")


def parent_area(area_code: str, level: Level) -> str:
    """The code of the area one level up (the next point's area)."""
    up = next_level(level)
    if up is None:
        raise Conflict("区级调解点之上没有可上交的调解点，可引导诉讼 (no point above the "
                       "district's: refer the dispute to court instead)")
    return area_code[:LEVEL_WIDTH[up]]


def step(state: State, action: Action, *, sessions: int = 0) -> State:
    """The state after ``action`` from ``state``.

    Raises
    ------
    Conflict
        The action is not allowed from ``state`` (HTTP 409), naming both.
    """
    after = TRANSITIONS.get((state, action))
    if after is None or (action is Action.AGREE and sessions < 1):
        raise Conflict(f"纠纷当前状态为「{state.value}」，不能执行「{action.value}」 "
                       f"(action '{action.value}' is not allowed from state '{state.value}')")
    return after


def allowed_actions(state: State, *, staff: bool, mediator: bool) -> list[str]:
    """The actions a person may take now, in button order (staff: of the point's area)."""
    if not staff and not mediator:
        return []
    return [a.value for a in Action if (state, a) in TRANSITIONS
            and (staff or a not in STAFF_ONLY)]


def is_point_staff(principal: Principal, area_code: str) -> bool:
    """Whether ``principal`` is territorial staff whose scope holds the point's area."""
    return principal.has(*SUPERVISORS) and principal.covers(area_code)


def may_see_parties(principal: Principal, area_code: str, mediators: frozenset[int]) -> bool:
    """Whether ``principal`` sees a dispute's parties unmasked: the point's staff, or a person
    named the dispute's mediator (with a role that reads disputes at all)."""
    if is_point_staff(principal, area_code):
        return True
    return (principal.has(*MEDIATION_ROLES) and principal.person_id is not None
            and principal.person_id in mediators)


def mask_name(name: str) -> str:
    """张三丰 -> 张**: the first character, the rest starred (an empty name stays empty)."""
    clean = name.strip()
    return clean[:1] + "*" * min(max(len(clean) - 1, 1), 3) if clean else ""


def mask_phone(phone: str) -> str:
    """13812341234 -> 138****1234; a short number keeps only its last two digits."""
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_address(address: str) -> str:
    """Only the first few characters (the road or compound), the rest hidden."""
    clean = address.strip()
    return f"{clean[:4]}…" if len(clean) > 4 else ("…" if clean else "")


def mask_party(party: Mapping[str, Any]) -> dict[str, Any]:
    """A party as people without the right to see it get it."""
    return {**party, "name": mask_name(str(party["name"])),
            "phone": mask_phone(str(party["phone"])),
            "address": mask_address(str(party["address"])), "masked": True}


def check_phone(phone: str) -> bool:
    """Whether ``phone`` looks like a phone number (digits, +, - and spaces)."""
    return not phone or bool(_PHONE.fullmatch(phone))


def suppressed(count: int) -> int | None:
    """``count`` as the public may see it: ``None`` when 1 … SMALL_COUNT-1 (0 tells nothing)."""
    return None if 0 < count < SMALL_COUNT else count


def period_starts(now: datetime) -> tuple[datetime, datetime]:
    """The first instants of the city's current month and year at ``now``."""
    local = now.astimezone(CITY_TZ)
    return (datetime(local.year, local.month, 1, tzinfo=CITY_TZ),
            datetime(local.year, 1, 1, tzinfo=CITY_TZ))


def city_today(now: datetime) -> date:
    """The city's date at ``now``."""
    return now.astimezone(CITY_TZ).date()

