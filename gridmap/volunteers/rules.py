"""The rules of the Party layers and the volunteers as plain values and functions (no Flask, no
database): who may see people, masking, small-count suppression, the task steps and points."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.errors import InvalidInput

STAFF_ROLES = SUPERVISORS | {Role.GRID_WORKER}
"""Roles that see Party households, volunteers' names and phones, and work tasks, where their
scope holds the grid or community: the grid's worker and community, sub-district and district
staff over it. Department staff, planners, data officers and administrators see what the
public sees (counts, team rankings, masked names): they have no part in this work."""
SMALL_COUNT = 5
"""Public counts of Party households below this are suppressed (``null``), as the care
register's and the map layers' counts of vulnerable residents are."""
STATES = ("open", "accepted", "done", "cancelled")
"""A task's states: open → accepted → done; open or accepted → cancelled."""
STEPS: dict[str, tuple[str, ...]] = {"accept": ("open",), "done": ("accepted",),
                                     "cancel": ("open", "accepted")}
"""From which states each step may be taken."""
MAX_TEAM_NAME, MAX_NAME, MAX_PHONE, MAX_AVAILABILITY = 60, 50, 20, 100
MAX_TITLE, MAX_TEXT, MAX_SKILLS = 100, 2000, 6
"""Bounds of a team's name, a volunteer's name, phone and availability, a task's title and
detail/note, and the skills one team or volunteer lists (the database holds the same)."""
RANKING_SIZE = 20
"""Volunteers shown in a community's ranking."""
HOURS_STEP = Decimal("0.5")
"""Hours are recorded in half hours."""
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,18}[0-9]$")


def is_staff(principal: Principal) -> bool:
    """Whether ``principal``'s role works with Party members and volunteers at all."""
    return principal.has(*STAFF_ROLES)


def sees_grid(principal: Principal, grid_code: str) -> bool:
    """Whether ``principal`` may see the people (households, volunteers' tasks) of a grid."""
    return is_staff(principal) and principal.covers(grid_code)


def sees_community(principal: Principal, community_code: str) -> bool:
    """Whether ``principal`` may see a community's volunteers in full and work its teams: staff
    over it, or the worker of one of its grids."""
    if not is_staff(principal):
        return False
    if principal.role is Role.GRID_WORKER:
        return any(g.startswith(community_code) for g in principal.grids)
    return principal.covers(community_code)


def suppressed(count: int) -> int | None:
    """``count`` as the public may see it: ``None`` when 1 … SMALL_COUNT-1 (0 tells nothing)."""
    return None if 0 < count < SMALL_COUNT else count


def mask_name(name: str) -> str:
    """A name as the public sees it: the family name and one star per other character."""
    text = name.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""


def mask_phone(phone: str) -> str:
    """A phone as others see it: first three and last four digits (139****5678)."""
    digits = re.sub(r"[^0-9]", "", phone)
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def check_phone(phone: str) -> str | None:
    """A problem with a phone number (digits, spaces, dashes, a leading +), or None."""
    if phone and not _PHONE.match(phone):
        return "手机号格式不正确 (not a phone number)"
    return None


def next_state(state: str, step: str) -> str:
    """The state after ``step`` from ``state``.

    Raises
    ------
    InvalidInput
        An unknown step, or one not allowed from ``state`` (the message names both).
    """
    if step not in STEPS:
        raise InvalidInput(f"未知操作 {step[:20]!r} (unknown step)")
    if state not in STEPS[step]:
        raise InvalidInput(f"任务状态为 {state}，不能执行 {step} "
                           f"(cannot {step} a task that is {state})")
    return {"accept": "accepted", "done": "done", "cancel": "cancelled"}[step]


def parse_hours(raw: Any, *, max_hours: Decimal) -> Decimal:
    """Hours worked: a number of half hours, more than 0 and at most ``max_hours``.

    Raises
    ------
    InvalidInput
        Anything else.
    """
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, bool) else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if (not value.is_finite() or value <= 0 or value > max_hours
            or value % HOURS_STEP != 0):
        raise InvalidInput(f"服务时长须为 0.5 至 {max_hours} 小时之间的半小时整数倍 "
                           f"(hours must be half hours between 0.5 and {max_hours})",
                           fields={"hours": "invalid"})
    return value


def points_for(hours: Decimal, *, per_hour: Decimal, per_task: int) -> int:
    """Points a done task earns: ``per_task`` plus ``per_hour`` for every hour, rounded half
    up to a whole point (the rule is data: ``volunteer_points_rule``)."""
    return per_task + int((hours * per_hour).quantize(Decimal(1), rounding=ROUND_HALF_UP))

