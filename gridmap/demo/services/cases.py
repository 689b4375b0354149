"""Load a year of synthetic cases (民呼我应) onto the demo territory.

Reads the territory, people and categories already loaded, generates the histories with
`gridmap.demo.generator.cases` (every step through `gridmap.cases.workflow.apply`), and COPYs
cases, events and co-handlers. Nothing is deleted: reloading the territory (``TRUNCATE … CASCADE`` in
`gridmap.demo.services.load`) is what clears earlier demo cases, since case_event is append-only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import shapely
from sqlalchemy.orm import Session, sessionmaker

from gridmap.db import unit_of_work
from gridmap.demo.generator.cases import CaseInputs, DemoCases, generate_cases
from gridmap.demo.repositories import cases as repo
from gridmap.demo.repositories.bulk import ewkb_hex

DEFAULT_COUNT = 20_000


def read_case_inputs(session: Session) -> CaseInputs:
    """Read grids, buildings, acting people, memberships and categories for the generator."""
    return repo.read_case_inputs(session)


def load_demo_cases(factory: sessionmaker[Session], *, count: int = DEFAULT_COUNT,
                    seed: int = 20231101, now: datetime | None = None) -> dict[str, int]:
    """Generate ``count`` demo cases over the year before ``now`` and COPY them, in one
    transaction of their own; returns row counts.

    ``now`` defaults to the current time; pass it (aware) for reproducible output.
    """
    with unit_of_work(factory) as session:
        return write_demo_cases(session, count=count, seed=seed, now=now)


def write_demo_cases(session: Session, *, count: int = DEFAULT_COUNT, seed: int = 20231101,
                     now: datetime | None = None) -> dict[str, int]:
    """:func:`load_demo_cases` as one step of a larger load, in the caller's transaction.

    For `gridmap.demo.services.load`, whose territory and cases land or fail together.
    """
    when = now if now is not None else datetime.now(UTC)
    data = generate_cases(repo.read_case_inputs(session), now=when, count=count, seed=seed)
    return copy_demo_cases(session, data)


def copy_demo_cases(session: Session, data: DemoCases) -> dict[str, int]:
    """COPY generated cases, their events and co-handlers; case ids come from the case sequence."""
    n = len(data.cases)
    if n == 0:
        return {"case": 0, "case_event": 0, "case_cohandler": 0}
    ids = repo.next_case_ids(session, n)
    duplicate_of = data.cases["duplicate_of_no"]
    cases = data.cases.assign(
        id=ids[data.cases["case_no"].to_numpy()], input_crs="wgs84",
        geom=ewkb_hex(shapely.points(data.cases["lon"], data.cases["lat"])),
        duplicate_of=pd.Series(ids[duplicate_of.fillna(0).to_numpy(dtype="int64")],
                               index=duplicate_of.index, dtype="Int64").where(duplicate_of.notna()))
    events = data.events.assign(
        case_id=ids[data.events["case_no"].to_numpy()],
        payload=[json.dumps(p, ensure_ascii=False) for p in data.events["payload"]])
    parts = data.cohandlers.assign(case_id=ids[data.cohandlers["case_no"].to_numpy()])
    return repo.copy_cases(session, _columns(cases, repo.CASE_COLUMNS),
                           _columns(events, repo.EVENT_COLUMNS),
                           _columns(parts, repo.COHANDLER_COLUMNS))


def _columns(frame: pd.DataFrame, names: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    """Rows of plain Python values, None for missing (what psycopg's COPY dumps)."""
    cols = [frame[c].astype(object).where(frame[c].notna(), None).to_numpy() for c in names]
    return zip(*cols, strict=True)
