"""The in-memory inputs of siting and what-if, bounded to what a walk can reach.

A walk is never shorter than the straight line between its ends (snap offsets included), so a
building's coverage within a walking limit depends only on the streets and facilities within
that limit of it. Both planning services therefore load a set of buildings and, around their
bounding box grown by :func:`reach_m`, the streets and facilities: memory follows the area asked
about, not the city. The snap allowance in the margin also brings in the street a building or a
facility at the edge snaps to, so every answer equals the one computed on the whole city.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy.orm import Session

from gridmap.analysis import network
from gridmap.coverage.repositories import compute as coverage_repo
from gridmap.coverage.repositories.compute import Envelope
from gridmap.coverage.services.compute import MAX_SNAP_M
from gridmap.coverage.services.queries import check_rule
from gridmap.crs import SRID, validate_lonlat
from gridmap.errors import InvalidInput

Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Scene:
    """Buildings snapped to the streets around them, and the facilities among those streets."""

    graph: network.StreetGraph
    nodes: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    origins: network.Snapped
    facilities: gpd.GeoDataFrame
    limit: float


def rule_limit(session: Session, facility_type: str, circle: str) -> float:
    """The rule's walking limit in metres (400 for an unknown type, circle or rule)."""
    check_rule(session, facility_type, circle)
    rule = coverage_repo.rule(session, facility_type, circle)
    if rule is None:
        raise InvalidInput(f"没有 {facility_type} / {circle} 的覆盖规则 "
                           "(no coverage rule for this facility type and circle)")
    return float(rule["max_distance_m"])


def reach_m(limit: float) -> float:
    """How far beyond a building its walks and snaps can go: the limit plus the snap allowance."""
    return limit + MAX_SNAP_M


def reach_of(buildings: gpd.GeoDataFrame, *, limit: float, srid: int) -> Envelope | None:
    """The bounding box of ``buildings`` grown by :func:`reach_m` in the metric CRS ``srid``,
    in WGS84 (its edges densified, so the curved image stays inside); None without buildings."""
    if buildings.empty:
        return None
    minx, miny, maxx, maxy = buildings.geometry.to_crs(srid).total_bounds
    grown = shapely.segmentize(shapely.box(minx, miny, maxx, maxy).buffer(
        reach_m(limit), join_style="mitre"), 100.0)
    x0, y0, x1, y1 = gpd.GeoSeries([grown], crs=srid).to_crs(SRID).total_bounds
    return float(x0), float(y0), float(x1), float(y1)


def load(session: Session, facility_type: str, *, limit: float, srid: int,
         buildings: gpd.GeoDataFrame, reach: Envelope) -> Scene:
    """Streets and facilities of ``facility_type`` within ``reach`` (WGS84), the graph in the
    metric CRS ``srid``, and ``buildings`` snapped to it.

    ``reach`` must hold the bounding box of ``buildings`` grown by :func:`reach_m` for the
    answers to equal the whole city's.
    """
    nodes = coverage_repo.street_nodes(session, reach)
    graph = network.build_graph(nodes, coverage_repo.street_edges(session, reach),
                                crs=f"EPSG:{srid}")
    return Scene(graph=graph, nodes=nodes, buildings=buildings,
                 origins=network.snap(graph, buildings, max_snap_m=MAX_SNAP_M),
                 facilities=coverage_repo.facilities(session, facility_type, reach),
                 limit=limit)


def covered(scene: Scene, facilities: gpd.GeoDataFrame | gpd.GeoSeries) -> Bools:
    """Buildings of the scene within the rule's distance of any of ``facilities``."""
    sources = network.snap(scene.graph, facilities, max_snap_m=MAX_SNAP_M)
    result = network.nearest_facility(scene.graph, origins=scene.origins, facilities=sources,
                                      max_distance_m=scene.limit)
    return result.covered(scene.limit)


def lonlat_points(lonlat: Sequence[tuple[float, float]]) -> gpd.GeoSeries:
    """WGS84 points from (lon, lat) pairs, each checked."""
    for lon, lat in lonlat:
        validate_lonlat(float(lon), float(lat))
    xy = np.asarray([(float(x), float(y)) for x, y in lonlat], dtype=np.float64).reshape(-1, 2)
    return gpd.GeoSeries(shapely.points(xy), crs=f"EPSG:{SRID}")
