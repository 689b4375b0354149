"""Escalation job (督办): apply the rules of ``supervision_rule`` to every overdue case.

Run by the worker's periodic task (see :mod:`gridmap.worker`) and by ``gridmap`` tests; never
by a request. One transaction: notices, case events, inbox items and outbox rows commit
together, under an advisory lock so two workers never interleave. Running it again finds
nothing new (a notice is unique per case and rule), so it notifies once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from gridmap.cases import workflow
from gridmap.db import unit_of_work
from gridmap.supervision.escalation import LEVELS, Deadline, Level
from gridmap.supervision.repositories import escalation as repo

INACTIVE_STATES = frozenset(s.value for s in (*workflow.TERMINAL_STATES, workflow.State.SUSPENDED))
"""A closed, cancelled or suspended case is not escalated (a suspension stops its clock)."""

NOTICE_TEXT = ("督办：案件 %1$s 已超过%2$s时限，已提级至%3$s督办 "
               "(supervision: case %1$s is past its %4$s deadline; now supervised by the %5$s)")
"""The notice, Chinese first: a template for SQL's ``format()`` (1: the case id; 2, 3: the
deadline's and the level's names in Chinese; 4, 5: the same in English)."""

DEADLINE_LABELS = {
    "zh": {Deadline.RESPOND.value: "响应", Deadline.RESOLVE.value: "处置"},
    "en": {Deadline.RESPOND.value: "response", Deadline.RESOLVE.value: "resolution"},
}
LEVEL_LABELS = {
    "zh": {Level.GRID.value: "网格", Level.COMMUNITY.value: "社区",
           Level.SUBDISTRICT.value: "街道", Level.DISTRICT.value: "区指挥中心"},
    "en": {Level.GRID.value: "grid", Level.COMMUNITY.value: "community",
           Level.SUBDISTRICT.value: "sub-district", Level.DISTRICT.value: "district command centre"},
}


@dataclass(frozen=True)
class EscalationResult:
    """What a run wrote, over all its steps."""

    notices: int = 0
    events: int = 0
    inbox_items: int = 0
    queued: int = 0


def escalate(factory: sessionmaker[Session], *, channel: str,
             now: datetime | None = None) -> EscalationResult:
    """Escalate every overdue case as far as the rules say at ``now`` (default: the clock)."""
    with unit_of_work(factory) as session:
        return escalate_in(session, channel=channel, now=now or datetime.now(UTC))


def escalate_in(session: Session, *, channel: str, now: datetime) -> EscalationResult:
    """The same inside the caller's transaction (tests roll it back)."""
    repo.lock(session)
    total = EscalationResult()
    for _ in LEVELS:  # each step raises a case by one rule; the chain has len(LEVELS)-1 links
        step = repo.escalate_step(
            session, now=now, inactive_states=INACTIVE_STATES, channel=channel,
            text=NOTICE_TEXT, deadline_labels=DEADLINE_LABELS, level_labels=LEVEL_LABELS)
        total = EscalationResult(total.notices + step.notices, total.events + step.events,
                                 total.inbox_items + step.inbox_items, total.queued + step.queued)
        if step.notices == 0:
            break
    return total
