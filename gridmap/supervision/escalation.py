"""Escalation of overdue cases (督办): which rules a case has become due for.

Pure: no database, no Flask, no clock (the caller passes ``now``). The job applies the same
rules set-based in SQL (``gridmap/supervision/sql/escalate_step.sql``); the tests hold the two
to the same answers.

A rule says: a case whose ``deadline`` (respond or resolve) passed more than ``after_hours``
ago and that is still not answered / not resolved, and that is supervised at ``from_level``
(``grid`` until a first notice), is raised to ``to_level``. Applying a rule changes the level,
so a case long overdue climbs several levels in one run; a rule fires once per case.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Level(StrEnum):
    """Who supervises a case, from the grid up to the district command centre."""

    GRID = "grid"
    COMMUNITY = "community"
    SUBDISTRICT = "subdistrict"
    DISTRICT = "district"


LEVELS: tuple[Level, ...] = tuple(Level)
"""The chain, lowest first."""


class Deadline(StrEnum):
    """Which of a case's deadlines a rule watches."""

    RESPOND = "respond"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Rule:
    """One escalation rule, as stored in ``supervision_rule``."""

    code: str
    deadline: Deadline
    after_hours: float
    from_level: Level
    to_level: Level

    def __post_init__(self) -> None:
        if not math.isfinite(self.after_hours) or self.after_hours < 0:
            raise ValueError(f"after_hours must be a finite number >= 0, got {self.after_hours!r}")
        if LEVELS.index(self.to_level) <= LEVELS.index(self.from_level):
            raise ValueError(f"rule {self.code}: to_level must be above from_level")


@dataclass(frozen=True)
class CaseDue:
    """What escalation needs to know of a case.

    ``open`` is False for a closed, cancelled or suspended case (never escalated);
    ``fired`` the codes of the rules that already produced a notice for it.
    """

    respond_by: datetime
    resolve_by: datetime
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    open: bool = True
    level: Level = Level.GRID
    fired: frozenset[str] = frozenset()


def _overdue(case: CaseDue, rule: Rule, now: datetime) -> bool:
    if rule.deadline is Deadline.RESPOND:
        deadline, done = case.respond_by, case.responded_at
    else:
        deadline, done = case.resolve_by, case.resolved_at
    return done is None and now > deadline + timedelta(hours=rule.after_hours)


def _require_aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("times must be timezone-aware")


def due_rules(case: CaseDue, rules: Sequence[Rule], *, now: datetime) -> list[Rule]:
    """The rules that fire for ``case`` at ``now``, in the order they apply.

    Rules are tried in their given order; the first one due at the case's current level
    fires and raises the level, and the search starts again, until none is due. An empty list
    means nothing to do (also for a case that is not open).
    """
    _require_aware(case.respond_by, case.resolve_by, case.responded_at, case.resolved_at, now)
    if not case.open:
        return []
    fired: list[Rule] = []
    codes, level = set(case.fired), case.level
    while True:
        rule = next((r for r in rules if r.code not in codes and r.from_level is level
                     and _overdue(case, r, now)), None)
        if rule is None:
            return fired
        fired.append(rule)
        codes.add(rule.code)
        level = rule.to_level


def level_after(start: Level, rules: Iterable[Rule]) -> Level:
    """The level a case is supervised at after ``rules`` fired (the highest they reached)."""
    return max((r.to_level for r in rules), key=LEVELS.index, default=start)
