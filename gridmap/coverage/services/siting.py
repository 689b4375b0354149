"""Siting for walking coverage: where k new facilities help most. Computed in memory from the
current data (stored runs may be stale; this answer must not be); nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.access import Principal
from gridmap.analysis import network, siting
from gridmap.coverage.repositories import audit as audit_repo
from gridmap.coverage.repositories import compute as coverage_repo
from gridmap.coverage.repositories import planning as planning_repo
from gridmap.coverage.services import readers
from gridmap.coverage.services import scene as scenes
from gridmap.coverage.services.compute import MAX_SNAP_M, metric_srid
from gridmap.coverage.services.queries import compute_command
from gridmap.crs import SRID
from gridmap.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Site:
    """A proposed facility: WGS84 position, elderly it newly covers, and the running total."""

    lon: float
    lat: float
    elderly_gain: int
    elderly_cumulative: int
    node_id: int | None
    community_code: str | None = None
    """Where it lies, for people to find it: the community holding it, and the nearest named
    street with its distance."""
    community: str | None = None
    street: str | None = None
    street_m: int | None = None


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


def site(session: Session, principal: Principal, facility_type: str, circle: str, *,
         area_code: str, k: int = 10,
         candidates: Sequence[tuple[float, float]] | None = None,
         max_candidates: int = 2000) -> SitingReport:
    """Choose up to ``k`` new sites for ``facility_type`` maximising newly covered elderly.

    Parameters
    ----------
    session : Session
        Read-only use; nothing is written.
    principal : Principal
        Who asks: ``area_code`` must lie in their area (:mod:`.readers`; Forbidden otherwise).
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
    readers.area(principal, area_code)
    clock = time.perf_counter()
    scene = _scene(session, facility_type, circle, area_code)
    loaded = time.perf_counter()
    before = scenes.covered(scene, scene.facilities)
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
        points = scenes.lonlat_points(candidates)
        node_ids = [None] * len(points)
    snapped = network.snap(scene.graph, points, max_snap_m=MAX_SNAP_M)
    covers = siting.coverage_matrix(scene.graph, candidates=snapped, demand=demand,
                                    max_distance_m=scene.limit)
    chosen = siting.greedy_mclp(covers, elderly[todo], k=k)
    done = time.perf_counter()
    xy = shapely.get_coordinates(np.asarray(points.to_crs(SRID).array, dtype=object))
    picked = chosen.sites.tolist()
    places = planning_repo.site_places(session, [(float(xy[c, 0]), float(xy[c, 1])) for c in picked])
    sites = [Site(lon=float(xy[c, 0]), lat=float(xy[c, 1]), elderly_gain=int(g),
                  elderly_cumulative=int(t), node_id=node_ids[c], **place)
             for c, g, t, place in zip(picked, chosen.gain, chosen.cumulative, places,
                                       strict=True)]
    return SitingReport(
        area_code=area_code, facility_type=facility_type, circle=circle,
        max_distance_m=scene.limit, elderly=int(elderly[inside].sum()),
        elderly_covered=int(elderly[inside & before].sum()), candidates=len(points), sites=sites,
        seconds={"load": loaded - clock, "site": done - loaded})


def _scene(session: Session, facility_type: str, circle: str, area_code: str) -> scenes.Scene:
    """The area's buildings, and the streets and facilities a walk from them can reach (see
    :mod:`gridmap.coverage.services.scene`): memory follows the area, not the city."""
    limit = scenes.rule_limit(session, facility_type, circle)
    srid = metric_srid(session)
    level, _ = codes.parse_area(area_code)
    envelope = coverage_repo.area_envelope(session, level, area_code,
                                           margin_m=scenes.reach_m(limit), srid=srid)
    if envelope is None:
        raise NotFound(f"没有区域 {area_code} (no such district, sub-district or community)")
    return scenes.load(session, facility_type, limit=limit, srid=srid, reach=envelope,
                       buildings=audit_repo.buildings(session, area_code=area_code))


def siting_answer(report: SitingReport) -> dict[str, Any]:
    """The JSON answer of a siting request: the report, the elderly left uncovered before the
    new sites, and the command that computes the stored run."""
    return {**asdict(report), "elderly_uncovered": report.elderly - report.elderly_covered,
            "command": compute_command(report.facility_type, report.circle)}
