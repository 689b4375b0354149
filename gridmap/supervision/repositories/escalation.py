"""SQL for escalation: one set-based step (``sql/escalate_step.sql``) and its lock."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap.sqlfiles import sql


@dataclass(frozen=True)
class StepCounts:
    """What one step wrote."""

    notices: int
    events: int
    inbox_items: int
    queued: int


def lock(session: Session) -> None:
    """Serialise escalation runs (two workers' periodic jobs) for the transaction."""
    session.execute(select(func.pg_advisory_xact_lock(
        func.hashtextextended("gridmap.supervision.escalate", 0))))


def escalate_step(session: Session, *, now: datetime, inactive_states: Collection[str],
                  channel: str, text: str, deadline_labels: Mapping[str, Mapping[str, str]],
                  level_labels: Mapping[str, Mapping[str, str]]) -> StepCounts:
    """Apply the first due rule to every open overdue case once; what it wrote.

    ``text`` is a ``format()`` template with the case id, the deadline's and the level's names
    in Chinese, then in English; the labels map language → code → name.
    """
    row = session.execute(sql("supervision/escalate_step"), {
        "now": now, "inactive_states": sorted(inactive_states), "channel": channel,
        "text": text,
        "deadline_zh": json.dumps(deadline_labels["zh"], ensure_ascii=False),
        "deadline_en": json.dumps(deadline_labels["en"]),
        "level_zh": json.dumps(level_labels["zh"], ensure_ascii=False),
        "level_en": json.dumps(level_labels["en"]),
    }).one()
    return StepCounts(notices=row.notices, events=row.events, inbox_items=row.inbox_items,
                      queued=row.queued)
