"""Synthetic care register rows, made in the database from the loaded territory (set-based)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridmap.models import CareEntry, CareVisit, CareZeroReport
from gridmap.sqlfiles import sql


def write(session: Session, *, share: float, seed: int, now: datetime) -> dict[str, int]:
    """Register entries for ``share`` of residents, a year of visits, zero reports; counts."""
    session.execute(select(func.setseed((seed % 1000) / 1000.0)))
    for statement in sql("demo/care").text.split("\n\n"):
        body = "\n".join(line for line in statement.splitlines()
                         if not line.startswith("--")).strip()
        if body:
            session.execute(text(body), {"share": share, "now": now})
    return {table: int(session.execute(select(func.count()).select_from(model)
                                       .where(model.synthetic)).scalar_one())
            for table, model in (("care_entry", CareEntry), ("care_visit", CareVisit),
                                 ("care_zero_report", CareZeroReport))}
