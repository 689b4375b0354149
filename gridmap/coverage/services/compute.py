"""Compute walking coverage for a facility type and life circle, and store it.

One run: load the street network, the buildings and the facilities of the type; snap them to
the streets; one multi-source shortest-path pass gives every building its walking distance to
the nearest facility (snap distances included) and which facility that is; store the result per
building and aggregated per grid / community / sub-district / district, with the parameters,
the metric CRS it was measured in and the time it took. Pages read stored runs; nothing heavy
runs per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from gridmap.analysis import network
from gridmap.coverage.repositories import compute as repo
from gridmap.crs import gauss_kruger_epsg
from gridmap.db import unit_of_work
from gridmap.errors import InvalidInput, NotFound

NEAR_MISS_FACTOR = 1.5
"""Distances are kept up to this many times the circle, for the "near miss" band."""
MAX_SNAP_M = 300.0
"""A building or facility farther than this from every street is not on the network."""


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
    metric_crs: str


def metric_srid(session: Session) -> int:
    """EPSG code of the CRS distances are measured in: the CGCS2000 3-degree Gauss-Kruger zone
    whose central meridian is nearest the centre of the loaded territory (4550 for Shenyang)."""
    centre = repo.territory_centre(session)
    if centre is None:
        raise NotFound("尚未加载辖区数据，无法选择度量坐标系 "
                       "(no territory is loaded, so there is no metric CRS to measure in)")
    return gauss_kruger_epsg(centre[0])


def metric_crs(session: Session) -> str:
    """The same CRS as ``"EPSG:nnnn"`` (``"EPSG:4550"`` for Shenyang)."""
    return f"EPSG:{metric_srid(session)}"


def rule(session: Session, facility_type: str, circle: str) -> dict[str, Any]:
    """The coverage rule of a facility type and circle; InvalidInput when there is none."""
    found = repo.rule(session, facility_type, circle)
    if found is None:
        raise InvalidInput(f"没有 {facility_type} / {circle} 的覆盖规则 "
                           "(no coverage rule for this facility type and circle)")
    return found


class _Laps:
    """Wall time per step, for the run's report."""

    def __init__(self, step: Callable[[str], None]) -> None:
        self.times: dict[str, float] = {}
        self._step = step
        self._clock = time.perf_counter()

    def start(self, name: str) -> None:
        """Tell the caller a step begins."""
        self._step(name)

    def done(self, name: str) -> None:
        """Record the time since the last lap under ``name``."""
        now = time.perf_counter()
        self.times[name] = now - self._clock
        self._clock = now


def compute(factory: sessionmaker[Session], facility_type: str, circle: str, *,
            step: Callable[[str], None] = lambda name: None) -> RunReport:
    """Compute and store coverage of ``facility_type`` within ``circle`` in one transaction.

    ``step`` is told the name of each step as it starts (for progress bars). Computes of one
    rule are serialised when they store: a second one waits for the first to commit, then
    becomes the current run itself.
    """
    laps = _Laps(step)
    with unit_of_work(factory) as session:
        found = rule(session, facility_type, circle)
        limit, srid = float(found["max_distance_m"]), metric_srid(session)
        crs = f"EPSG:{srid}"
        # Read before the data: a change while this runs leaves the run stale, never falsely
        # fresh.
        inputs = repo.data_versions(session, facility_type)
        laps.start("load")
        nodes, edges = repo.street_nodes(session), repo.street_edges(session)
        buildings, facilities = repo.buildings(session), repo.facilities(session, facility_type)
        laps.done("load")
        laps.start("graph")
        graph = network.build_graph(nodes, edges, crs=crs)
        origins = network.snap(graph, buildings, max_snap_m=MAX_SNAP_M)
        sources = network.snap(graph, facilities, max_snap_m=MAX_SNAP_M)
        laps.done("snap")
        laps.start("shortest paths")
        result = network.nearest_facility(graph, origins=origins, facilities=sources,
                                          max_distance_m=limit * NEAR_MISS_FACTOR)
        laps.done("shortest paths")
        laps.start("store")
        params = {"max_snap_m": MAX_SNAP_M, "near_miss_factor": NEAR_MISS_FACTOR,
                  "walk_speed_mps": found["walk_speed_mps"], "crs": crs}
        run_id = _store(session, facility_type, circle, limit, params, srid=srid, inputs=inputs,
                        building_ids=buildings["building_id"].to_numpy(dtype=np.int64),
                        facility_ids=np.asarray(facilities["facility_id"], dtype=np.int64),
                        result=result)
        laps.done("store")
        totals = repo.totals(session, run_id)
        repo.set_seconds(session, run_id, sum(laps.times.values()))
    return RunReport(run_id=run_id, buildings=len(buildings), facilities=len(facilities),
                     unsnapped_facilities=len(result.unsnapped_facilities),
                     buildings_covered=int(result.covered(limit).sum()),
                     residents_rate=totals["residents_rate"], elderly_rate=totals["elderly_rate"],
                     seconds=laps.times, metric_crs=crs)


@dataclass(frozen=True)
class RuleOutcome:
    """One rule of :func:`compute_all`: its new run, or the current run it kept."""

    facility_type: str
    circle: str
    run_id: int
    report: RunReport | None
    """None when the rule already had a current run and ``if_missing`` kept it."""


def compute_all(factory: sessionmaker[Session], *, if_missing: bool = False,
                done: Callable[[int, int, RuleOutcome], None] = lambda i, n, outcome: None,
                step: Callable[[int, int, str, str, str], None] = lambda i, n, t, c, name: None,
                ) -> list[RuleOutcome]:
    """Compute every coverage rule, one run each in a transaction of its own.

    The rules the GB 50180 audit requires come first, so a batch stopped half-way has filled the
    audit before the optional ones. A failing rule stops the batch with its error; the runs
    already stored stay current.

    Parameters
    ----------
    factory : sessionmaker
        Each rule opens its own sessions (as :func:`compute` does).
    if_missing : bool, default False
        Keep a rule's current run instead of computing a new one.
    done : callable, optional
        Told ``(index, total, outcome)`` after each rule (1-based), for progress output.
    step : callable, optional
        Told ``(index, total, facility_type, circle, step)`` as each step of a rule's compute
        begins (``step`` as :func:`compute` names them), for progress bars.
    """
    with factory() as session:
        pairs = repo.rules(session)
    outcomes = []
    for index, (facility_type, circle) in enumerate(pairs, 1):
        kept = None
        if if_missing:
            with factory() as session:
                kept = current_run(session, facility_type, circle)
        if kept is not None:
            outcome = RuleOutcome(facility_type, circle, kept, None)
        else:
            report = compute(factory, facility_type, circle,
                             step=partial(step, index, len(pairs), facility_type, circle))
            outcome = RuleOutcome(facility_type, circle, report.run_id, report)
        outcomes.append(outcome)
        done(index, len(pairs), outcome)
    return outcomes


def _store(session: Session, facility_type: str, circle: str, limit: float,
           params: dict[str, Any], *, srid: int, inputs: dict[str, int],
           building_ids: npt.NDArray[np.int64],
           facility_ids: npt.NDArray[np.int64], result: network.Coverage) -> int:
    """Record the run as current (waiting for any other compute of the rule), its buildings
    and its per-area totals; return its id."""
    covered = result.covered(limit)
    reached = np.isfinite(result.distance_m)
    nearest = np.full(result.facility.shape[0], -1, dtype=np.int64)
    hit = result.facility >= 0  # indexing only the hits: a type may have no facility at all
    nearest[hit] = facility_ids[result.facility[hit]]
    repo.lock_rule(session, facility_type, circle)
    run_id = repo.new_run(session, facility_type, circle, limit, params, seconds=0.0,
                          metric_srid=srid, inputs=inputs)
    rows = zip(building_ids.tolist(),
               np.where(reached, np.round(result.distance_m, 1), np.nan).tolist(),
               nearest.tolist(), covered.tolist(), strict=True)
    repo.store_buildings(session, run_id, (
        (b, None if d != d else d, None if f < 0 else f, c) for b, d, f, c in rows))
    repo.aggregate(session, run_id)
    return run_id


def current_run(session: Session, facility_type: str, circle: str) -> int | None:
    """The id of the current run for a facility type and circle, if any."""
    return repo.current_run(session, facility_type, circle)
