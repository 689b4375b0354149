"""Siting and what-if for walking coverage: where k new facilities help most, and what a change
to the facility set would do. Both compute in memory from the current data and write nothing
(stored runs may be stale; these answers must not be).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.analysis import network, siting
from gridmap.coverage.repositories import audit as audit_repo
from gridmap.coverage.repositories import compute as coverage_repo
from gridmap.coverage.services.compute import MAX_SNAP_M, metric_srid
from gridmap.coverage.services.queries import check_rule, compute_command
from gridmap.crs import SRID, validate_lonlat
from gridmap.errors import InvalidInput, NotFound

Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Site:
    """A proposed facility: WGS84 position, elderly it newly covers, and the running total."""

    lon: float
    lat: float
    elderly_gain: int
    elderly_cumulative: int
    node_id: int | None


@dataclass(frozen=True)
class SitingReport:
    """Sites chosen for an area, with its elderly coverage before and the time of each step."""

    area_code: str
    facility_type: str
    circle: str
    max_distance_m: float
    elderly: int
    elderly_covered: int
    candidates: int
    sites: list[Site]
    seconds: dict[str, float]


@dataclass(frozen=True)
class AreaChange:
    """Coverage of one area before and after a what-if change."""

    code: str
    residents: int
    residents_covered_before: int
    residents_covered_after: int
    elderly: int
    elderly_covered_before: int
    elderly_covered_after: int


@dataclass(frozen=True)
class WhatIfReport:
    """Buildings whose coverage changes, and per-area totals before and after."""

    buildings_gained: int
    buildings_lost: int
    areas: list[AreaChange]

    @property
    def changed_buildings(self) -> int:
        """Buildings that became covered or uncovered."""
        return self.buildings_gained + self.buildings_lost


@dataclass(frozen=True)
class _Scene:
    graph: network.StreetGraph
    nodes: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    origins: network.Snapped
    facilities: gpd.GeoDataFrame
    limit: float


def site(session: Session, facility_type: str, circle: str, *, area_code: str, k: int = 10,
         candidates: Sequence[tuple[float, float]] | None = None,
         max_candidates: int = 2000) -> SitingReport:
    """Choose up to ``k`` new sites for ``facility_type`` maximising newly covered elderly.

    Parameters
    ----------
    session : Session
        Read-only use; nothing is written.
    facility_type, circle : str
        The coverage rule (its distance comes from ``coverage_rule``).
    area_code : str
        District, sub-district or community code: the elderly to cover live there.
    k : int, default 10
        Sites to choose; fewer come back when no candidate adds anyone.
    candidates : sequence of (lon, lat), optional
        WGS84 candidate layer; by default street nodes within reach of uncovered elderly.
    max_candidates : int, default 2000
        Cap on default candidates (spatially thinned).
    """
    if k < 0:
        raise InvalidInput(f"k 须 >= 0：{k} (k must be >= 0)")
    codes.parse_area(area_code)
    clock = time.perf_counter()
    scene = _scene(session, facility_type, circle, area_code)
    loaded = time.perf_counter()
    before = _covered(scene, scene.facilities)
    inside = scene.buildings["grid_code"].str.startswith(area_code).to_numpy()
    if not inside.any():
        raise InvalidInput(f"区域 {area_code} 内没有楼院 (no buildings in this area)")
    elderly = scene.buildings["elderly"].to_numpy(dtype=np.float64)
    todo = np.flatnonzero(inside & ~before & (elderly > 0) & scene.origins.valid)
    demand = scene.origins.take(todo)
    node_ids: list[int | None]
    if candidates is None:
        nodes = siting.candidate_nodes(scene.graph, demand=demand, max_distance_m=scene.limit,
                                       max_candidates=max_candidates)
        points = gpd.GeoSeries(np.asarray(scene.nodes.geometry.array, dtype=object)[nodes],
                               crs=scene.nodes.crs)
        node_ids = [int(i) for i in scene.graph.node_ids[nodes]]
    else:
        points = _points(candidates)
        node_ids = [None] * len(points)
    snapped = network.snap(scene.graph, points, max_snap_m=MAX_SNAP_M)
    covers = siting.coverage_matrix(scene.graph, candidates=snapped, demand=demand,
                                    max_distance_m=scene.limit)
    chosen = siting.greedy_mclp(covers, elderly[todo], k=k)
    done = time.perf_counter()
    xy = shapely.get_coordinates(np.asarray(points.to_crs(SRID).array, dtype=object))
    sites = [Site(lon=float(xy[c, 0]), lat=float(xy[c, 1]), elderly_gain=int(g),
                  elderly_cumulative=int(t), node_id=node_ids[c])
             for c, g, t in zip(chosen.sites.tolist(), chosen.gain, chosen.cumulative, strict=True)]
    return SitingReport(
        area_code=area_code, facility_type=facility_type, circle=circle,
        max_distance_m=scene.limit, elderly=int(elderly[inside].sum()),
        elderly_covered=int(elderly[inside & before].sum()), candidates=len(points), sites=sites,
        seconds={"load": loaded - clock, "site": done - loaded})


def what_if(session: Session, facility_type: str, circle: str, *,
            add: Sequence[tuple[float, float]] = (), remove: Sequence[int | str] = (),
            level: codes.Level | str = codes.Level.DISTRICT) -> WhatIfReport:
    """Coverage if facilities at ``add`` (WGS84 lon, lat) were opened and ``remove`` (facility
    ids, or codes) closed, per area of ``level``; computed in memory, nothing stored."""
    width = codes.width(level)
    check_rule(session, facility_type, circle)
    remove = _facility_ids(session, facility_type, remove)
    scene = _scene(session, facility_type, circle)
    known = set(scene.facilities["facility_id"].tolist())
    unknown = sorted(set(remove) - known)
    if unknown:
        raise InvalidInput(f"没有这些 {facility_type} 设施: {unknown[:5]} (unknown facility ids)")
    kept = scene.facilities[~scene.facilities["facility_id"].isin(list(remove))]
    changed = gpd.GeoDataFrame(geometry=pd.concat([kept.geometry, _points(add)], ignore_index=True),
                               crs=f"EPSG:{SRID}")
    before, after = _covered(scene, scene.facilities), _covered(scene, changed)
    b = scene.buildings
    frame = pd.DataFrame({
        "code": b["grid_code"].str[:width], "residents": b["residents"],
        "elderly": b["elderly"],
        "residents_covered_before": b["residents"].where(before, 0),
        "residents_covered_after": b["residents"].where(after, 0),
        "elderly_covered_before": b["elderly"].where(before, 0),
        "elderly_covered_after": b["elderly"].where(after, 0)})
    sums = frame.groupby("code", sort=True).sum()
    areas = [AreaChange(code=str(code), **{k: int(v) for k, v in row.items()})
             for code, row in sums.iterrows()]
    return WhatIfReport(buildings_gained=int((after & ~before).sum()),
                        buildings_lost=int((before & ~after).sum()), areas=areas)


def _scene(session: Session, facility_type: str, circle: str,
           area_code: str | None = None) -> _Scene:
    """Load the rule, streets, buildings and facilities; build the graph; snap the buildings.

    With ``area_code`` only what a walk from the area's buildings can reach is loaded: its
    buildings, and the streets and facilities within the circle's distance (plus the snap
    allowance) of its bounding box. A walk is never shorter than the straight line, so nothing
    outside can change the answer, and memory stays bounded by the area, not the city.
    """
    check_rule(session, facility_type, circle)
    rule = coverage_repo.rule(session, facility_type, circle)
    if rule is None:
        raise InvalidInput(f"没有 {facility_type} / {circle} 的覆盖规则 "
                           "(no coverage rule for this facility type and circle)")
    limit = float(rule["max_distance_m"])
    srid = metric_srid(session)
    envelope = None
    if area_code is not None:
        level, _ = codes.parse_area(area_code)
        envelope = coverage_repo.area_envelope(session, level, area_code,
                                               margin_m=limit + MAX_SNAP_M,
                                               srid=srid)
        if envelope is None:
            raise NotFound(f"没有区域 {area_code} (no such district, sub-district or community)")
    nodes = coverage_repo.street_nodes(session, envelope)
    graph = network.build_graph(nodes, coverage_repo.street_edges(session, envelope),
                                crs=f"EPSG:{srid}")
    buildings = audit_repo.buildings(session, area_code=area_code)
    return _Scene(graph=graph, nodes=nodes, buildings=buildings,
                  origins=network.snap(graph, buildings, max_snap_m=MAX_SNAP_M),
                  facilities=coverage_repo.facilities(session, facility_type, envelope),
                  limit=limit)


def _covered(scene: _Scene, facilities: gpd.GeoDataFrame) -> Bools:
    """Buildings within the rule's distance of any of ``facilities``."""
    sources = network.snap(scene.graph, facilities, max_snap_m=MAX_SNAP_M)
    result = network.nearest_facility(scene.graph, origins=scene.origins, facilities=sources,
                                      max_distance_m=scene.limit)
    return result.covered(scene.limit)


def _points(lonlat: Sequence[tuple[float, float]]) -> gpd.GeoSeries:
    """WGS84 points from (lon, lat) pairs, each checked."""
    for lon, lat in lonlat:
        validate_lonlat(float(lon), float(lat))
    xy = np.asarray([(float(x), float(y)) for x, y in lonlat], dtype=np.float64).reshape(-1, 2)
    return gpd.GeoSeries(shapely.points(xy), crs=f"EPSG:{SRID}")


def _facility_ids(session: Session, facility_type: str, given: Sequence[int | str]) -> list[int]:
    """Facility ids as given, codes (strings) turned into ids; InvalidInput for unknown codes."""
    ids = [v for v in given if isinstance(v, int)]
    wanted = [v for v in given if isinstance(v, str)]
    if wanted:
        found = coverage_repo.facility_ids_by_code(session, facility_type, wanted)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise InvalidInput(f"没有这些 {facility_type} 设施：{missing[:5]} (unknown facility codes)")
        ids += [found[c] for c in wanted]
    return ids


def siting_answer(report: SitingReport) -> dict[str, Any]:
    """The JSON answer of a siting request: the report, the elderly left uncovered before the
    new sites, and the command that computes the stored run."""
    return {**asdict(report), "elderly_uncovered": report.elderly - report.elderly_covered,
            "command": compute_command(report.facility_type, report.circle)}


def what_if_answer(report: WhatIfReport, level: codes.Level | str) -> dict[str, Any]:
    """The JSON answer of a what-if request: totals over every area, and the areas that change."""
    keys = [f.name for f in fields(AreaChange) if f.name != "code"]
    totals = {k: sum(getattr(a, k) for a in report.areas) for k in keys}
    changed = [asdict(a) for a in report.areas
               if (a.residents_covered_before, a.elderly_covered_before)
               != (a.residents_covered_after, a.elderly_covered_after)]
    return {"level": str(level), "totals": totals, "areas": changed,
            "buildings_gained": report.buildings_gained, "buildings_lost": report.buildings_lost,
            "changed_buildings": report.changed_buildings}
