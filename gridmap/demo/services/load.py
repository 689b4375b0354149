"""Load the synthetic Shenyang demo data set: generated in memory, COPYed in one transaction."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from gridmap.db import unit_of_work
from gridmap.demo.repositories import bulk, loads

if TYPE_CHECKING:  # type-only: the generator (and its heavy imports) loads only when generating
    import pandas as pd
    from tqdm import tqdm

    from gridmap.demo.generator.synth import DemoData

log = logging.getLogger(__name__)

Scale = Literal["districts", "city"]
GENERATOR_VERSION = 5  # bump when the generator's output changes, so `demo load` reloads


@dataclass(frozen=True)
class LoadReport:
    """What a load did: skipped (already loaded with the same parameters) and row counts."""

    skipped: bool
    params: dict[str, object]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time per step (each table's COPY, the grid cards, the cases), for rows/s."""


def load_demo(
    factory: sessionmaker[Session],
    *,
    scale: Scale = "districts",
    seed: int = 20231101,
    districts: list[str] | None = None,
    geodata_dir: Path | None = None,
    cases: int = 20_000,
    force: bool = False,
    progress: bool = False,
) -> LoadReport:
    """Generate and load the demo data unless the same parameters are loaded already."""
    params: dict[str, object] = {"scale": scale, "seed": seed, "districts": districts,
                                 "cases": cases, "version": GENERATOR_VERSION}
    with unit_of_work(factory) as session:
        current = loads.loaded(session)
    if current is not None and current[0] == params and not force:
        return LoadReport(True, params, current[1])
    from gridmap.demo.generator.synth import generate  # heavy imports only when generating

    data = generate(scale=scale, seed=seed, districts=districts, progress=progress,
                    geodata_dir=geodata_dir)
    seconds: dict[str, float] = {}
    with unit_of_work(factory) as session:
        loads.lock(session)
        bulk.clear(session)
        loads.clear_coverage_runs(session)
        # The Party organisation and volunteer teams (with their tasks) come with the history,
        # as the care register does: a load without cases (the test databases) has none, so
        # tests that remove buildings or grids meet no group or household referring to them.
        counts = _copy_all(session, data, progress=progress, seconds=seconds, seed=seed,
                           with_party=bool(cases))
        # The mediation network's points are structure (with the facilities), not history.
        from gridmap.demo.services.mediation import write_demo_mediation, write_demo_points

        counts.update(write_demo_points(session))
        if cases:
            # Historical cases need the grids, people and enrolments just loaded.
            from gridmap.demo.services.cases import write_demo_cases

            clock = time.perf_counter()
            counts.update(write_demo_cases(session, count=cases, seed=seed))
            seconds["cases"] = time.perf_counter() - clock
            # The care register's year of visits is history too: loaded with the cases, so a
            # load without history (the test databases: cases=0) leaves the register empty.
            from gridmap.demo.services.care import write_demo_care

            clock = time.perf_counter()
            counts.update(write_demo_care(session, seed=seed))
            seconds["care"] = time.perf_counter() - clock
            from gridmap.demo.services.volunteers import write_demo_tasks

            clock = time.perf_counter()
            counts.update(write_demo_tasks(session, seed=seed))
            seconds["volunteer_tasks"] = time.perf_counter() - clock
            clock = time.perf_counter()
            counts.update(write_demo_mediation(session, seed=seed))
            seconds["mediation"] = time.perf_counter() - clock
        loads.record(session, params, counts)
    with unit_of_work(factory) as session:  # fresh statistics so the planner uses the indexes
        loads.analyze(session)
    return LoadReport(False, params, counts, seconds)


def _copy_all(session: Session, data: DemoData, *, progress: bool,
              seconds: dict[str, float], seed: int, with_party: bool) -> dict[str, int]:
    """COPY every table, each followed by ANALYZE (the foreign-key checks and triggers of the
    next tables then plan with real statistics, not those of an empty table), with the grid
    cards' triggers off and the cards made once at the end: three refreshes of every card (after
    the grids, the grid workers and the enrolments) took minutes at city scale."""
    d = data  # short alias: the table below reads better
    steps: list[tuple[str, pd.DataFrame, list[str], str | None]] = [
        ("district", d.districts, ["code", "name"], "geometry"),
        ("subdistrict", d.subdistricts, ["code", "name", "district_code"], "geometry"),
        ("community", d.communities, ["code", "name", "subdistrict_code"], "geometry"),
        ("grid", d.grids.assign(synthetic=True), ["code", "name", "community_code", "synthetic"], "geometry"),
        ("building", d.buildings.assign(synthetic=True),
         ["code", "name", "address", "grid_code", "households", "residents", "aged_60_plus",
          "aged_80_plus", "elderly_living_alone", "synthetic"], "geometry"),
        ("facility", d.facilities.assign(synthetic=True),
         ["code", "type", "name", "capacity", "hours", "community_code", "synthetic"], "geometry"),
        ("street_node", d.street_nodes.rename(columns={"node_id": "id"}), ["id"], "geometry"),
        ("street_edge", d.street_edges.rename(columns={"edge_id": "id"}),
         ["id", "source", "target", "length_m", "kind", "name"], "geometry"),
        ("person", d.people.rename(columns={"person_id": "id"}).assign(synthetic=True),
         ["id", "name", "phone", "role", "department_code", "community_code", "synthetic"], None),
        ("grid_member", _members(d), ["grid_code", "person_id", "role"], None),
        ("grid_enrollment", d.enrollments,
         ["grid_code", "department_code", "person_id"], None),
    ]
    counts: dict[str, int] = {}
    bar = _progress(len(steps) + 1, enabled=progress)
    with bulk.grid_cards_deferred(session):
        for table, frame, columns, geometry in steps:
            bar.set_description(f"loading {table}")
            clock = time.perf_counter()
            counts[table] = bulk.copy_frame(session, table, frame, columns, geometry=geometry)
            bulk.analyze(session, table)
            seconds[table] = time.perf_counter() - clock
            bar.update(1)
        if with_party:
            # Before the cards are made: the central households join grid_member.
            from gridmap.demo.services.volunteers import write_demo_party

            clock = time.perf_counter()
            counts.update(write_demo_party(session, seed=seed))
            seconds["party"] = time.perf_counter() - clock
        bar.set_description("grid cards")
        clock = time.perf_counter()
    seconds["grid_card"] = time.perf_counter() - clock
    bar.update(1)
    bar.close()
    loads.reset_sequences(session)
    return counts


def _members(d: DemoData) -> pd.DataFrame:
    """Grid workers plus Party-member central households, as grid_member rows."""
    import pandas as pd

    workers = d.grid_workers.assign(role="grid_worker")
    people = d.people
    households = people[people["role"] == "party_household"]
    if "grid_code" in households.columns:
        extra = households[["grid_code", "person_id"]].assign(role="party_household")
        return pd.concat([workers, extra], ignore_index=True)
    return workers


def _progress(total: int, *, enabled: bool) -> tqdm[Any]:
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, unit="table")
