"""The bookkeeping of a demo load: one loader at a time, what is loaded, what goes with it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridmap.models import Building, Dataset, Facility, Person

DATASET = "demo"
_LOCK_KEY = 0x67726964  # advisory lock: one loader at a time
# Tables whose ids the demo data sets itself, so their sequences must be moved past them.
_SEQUENCED: dict[str, type[Person] | type[Building] | type[Facility]] = {
    "person": Person, "building": Building, "facility": Facility}


def lock(session: Session) -> None:
    """Wait until no other loader holds the lock, then hold it until the transaction ends."""
    session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))


def loaded(session: Session) -> tuple[dict[str, object], dict[str, int]] | None:
    """The parameters and row counts of the demo data set loaded now, or None."""
    current = session.get(Dataset, DATASET)
    if current is None:
        return None
    return json.loads(current.params), json.loads(current.counts)


def record(session: Session, params: dict[str, object], counts: dict[str, int]) -> None:
    """Record (replace) what the demo data set now holds."""
    session.merge(Dataset(name=DATASET, params=json.dumps(params), counts=json.dumps(counts)))


def clear_coverage_runs(session: Session) -> None:
    """Drop every stored coverage run: they describe buildings and facilities being replaced."""
    session.execute(text("TRUNCATE coverage_run CASCADE"))


def reset_sequences(session: Session, tables: Sequence[str] = tuple(_SEQUENCED)) -> None:
    """Move each table's id sequence past its largest id, so later inserts do not collide."""
    for table in tables:
        model = _SEQUENCED[table]
        next_id = select(func.coalesce(func.max(model.id), 0) + 1).scalar_subquery()
        session.execute(select(func.setval(func.pg_get_serial_sequence(table, "id"), next_id, False)))


def analyze(session: Session) -> None:
    """Refresh the planner's statistics (so it uses the spatial indexes on fresh data)."""
    session.execute(text("ANALYZE"))
