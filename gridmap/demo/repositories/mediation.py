"""Synthetic mediation rows, made in the database from the loaded territory (set-based)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridmap.models import Dispute, DisputeEvent, DisputeSession, MediationPoint
from gridmap.sqlfiles import sql

ROUNDS = (  # level, width of the next level's area (0: none), agreed / up / court rates
    ("community", 9, 0.78, 0.12, 0.05),
    ("subdistrict", 6, 0.70, 0.15, 0.10),
    ("district", 0, 0.65, 0.0, 0.30),
)
"""Each level's outcomes: most disputes settle where they arise; a few go up or to court."""


def _run(session: Session, name: str, values: dict[str, Any]) -> None:
    for statement in sql(name).text.split("\n\n"):
        body = "\n".join(line for line in statement.splitlines()
                         if not line.startswith("--")).strip()
        if body:
            session.execute(text(body), values)


def write_points(session: Session) -> int:
    """Register the community points and add sub-district and district ones; points made."""
    _run(session, "demo/mediation_points", {})
    return int(session.execute(select(func.count()).select_from(MediationPoint)).scalar_one())


def write_disputes(session: Session, *, per_community: float, seed: int,
                   now: datetime) -> dict[str, int]:
    """Disputes accepted over the last year, their sessions, outcomes, referrals and history."""
    session.execute(select(func.setseed(((seed + 3) % 1000) / 1000.0)))
    _run(session, "demo/mediation_roots", {"per_community": per_community, "now": now})
    for level, up_width, agree, up, court in ROUNDS:
        _run(session, "demo/mediation_round", {"level": level, "up_width": up_width,
                                               "agree": agree, "up": up, "court": court,
                                               "now": now})
    _run(session, "demo/mediation_events", {})
    return {table: int(session.execute(select(func.count()).select_from(model)
                                       .where(model.synthetic)).scalar_one())
            for table, model in (("dispute", Dispute), ("dispute_session", DisputeSession))} | {
        "dispute_event": int(session.execute(select(func.count()).select_from(DisputeEvent)
                                             ).scalar_one())}
