"""Compute walking coverage for a facility type and life circle, and store it.

One run: load the street network, the buildings and the facilities of the type; snap them to
the streets; one multi-source shortest-path pass gives every building its walking distance to
the nearest facility (snap distances included) and which facility that is; store the result per
building and aggregated per grid / community / sub-district / district, with the parameters and
the time it took. Pages read stored runs; nothing heavy runs per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from gridmap.analysis import network
from gridmap.coverage.repositories import compute as repo
from gridmap.crs import METRIC_CRS
from gridmap.errors import InvalidInput

NEAR_MISS_FACTOR = 1.5  # distances are kept up to 1.5 x the circle, for the "near miss" band
MAX_SNAP_M = 300.0


@dataclass(frozen=True)
class RunReport:
    """What a run found: its id, sizes, coverage rates and the time of each step (seconds)."""

    run_id: int
    buildings: int
    facilities: int
    unsnapped_facilities: int
    buildings_covered: int
    residents_rate: float
    elderly_rate: float
    seconds: dict[str, float]


def compute(session: Session, facility_type: str, circle: str, *,
            step: Callable[[str], None] = lambda name: None) -> RunReport:
    """Compute and store coverage of ``facility_type`` within ``circle`` (in the caller's
    transaction). ``step`` is told the name of each step as it starts (for progress bars)."""
    rule = repo.rule(session, facility_type, circle)
    if rule is None:
        raise InvalidInput(f"没有 {facility_type} / {circle} 的覆盖规则 "
                           "(no coverage rule for this facility type and circle)")
    limit = float(rule["max_distance_m"])
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = now - clock
        clock = now

    step("load")
    nodes, edges = repo.street_nodes(session), repo.street_edges(session)
    buildings, facilities = repo.buildings(session), repo.facilities(session, facility_type)
    lap("load")
    step("graph")
    graph = network.build_graph(nodes, edges, crs=METRIC_CRS)
    origins = network.snap(graph, buildings, max_snap_m=MAX_SNAP_M)
    sources = network.snap(graph, facilities, max_snap_m=MAX_SNAP_M)
    lap("snap")
    step("shortest paths")
    result = network.nearest_facility(graph, origins=origins, facilities=sources,
                                      max_distance_m=limit * NEAR_MISS_FACTOR)
    lap("shortest paths")
    step("store")
    covered = result.covered(limit)
    reached = np.isfinite(result.distance_m)
    facility_ids = np.asarray(facilities["facility_id"], dtype=np.int64)
    nearest = np.where(result.facility >= 0, facility_ids[np.maximum(result.facility, 0)], -1)
    run_id = repo.new_run(session, facility_type, circle, limit,
                          {"max_snap_m": MAX_SNAP_M, "near_miss_factor": NEAR_MISS_FACTOR,
                           "walk_speed_mps": rule["walk_speed_mps"], "crs": METRIC_CRS},
                          seconds=0.0)
    rows = zip(buildings["building_id"].tolist(),
               np.where(reached, np.round(result.distance_m, 1), np.nan).tolist(),
               nearest.tolist(), covered.tolist(), strict=True)
    repo.store_buildings(session, run_id, (
        (b, None if d != d else d, None if f < 0 else f, c) for b, d, f, c in rows))
    repo.aggregate(session, run_id)
    lap("store")
    totals = repo.totals(session, run_id)
    repo.set_seconds(session, run_id, sum(times.values()))
    return RunReport(run_id=run_id, buildings=len(buildings), facilities=len(facilities),
                     unsnapped_facilities=len(result.unsnapped_facilities),
                     buildings_covered=int(covered.sum()),
                     residents_rate=totals["residents_rate"], elderly_rate=totals["elderly_rate"],
                     seconds=times)


def current_run(session: Session, facility_type: str, circle: str) -> int | None:
    """The id of the current run for a facility type and circle, if any."""
    return repo.current_run(session, facility_type, circle)
