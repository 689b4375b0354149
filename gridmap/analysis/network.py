"""Walking distance along streets: a reusable street graph and one-pass nearest-facility search.

Distances are in metres in a projected CRS. Edges are undirected (pedestrians walk both ways).
A point (building, facility) reaches the network at its snap position on its nearest edge; the
straight snap offset counts in its walk.

Nearest facility is a single multi-source Dijkstra: every snapped facility becomes a virtual
node with arcs to its edge's two end nodes, and ``scipy.sparse.csgraph.dijkstra`` with
``min_only=True`` returns, per street node, the distance to the nearest facility and which one.
Each origin then takes the better of its edge's two ends; an origin sharing an edge with a
facility may also walk straight along that edge.

Coverage rule: an origin is covered by a walking limit ``d`` when ``distance_m <= d`` (a building
exactly at the limit is covered). Distances beyond ``max_distance_m``, unreachable origins
(another network component) and unsnappable ones are ``inf`` with facility ``-1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from gridmap.analysis._validate import AnalysisInputError
from gridmap.analysis.graph import (
    Snapped,
    StreetGraph,
    augmented,
    build_graph,
    check_query,
    same_edge_pairs,
    via_ends,
)
from gridmap.analysis.snap import snap

__all__ = [
    "AnalysisInputError", "Coverage", "Snapped", "StreetGraph", "build_graph", "catchment_edges",
    "nearest_facility", "snap",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class Coverage:
    """Walking distance from each origin to its nearest facility.

    Attributes
    ----------
    distance_m : ndarray of float64
        Network walking distance including both snap offsets; ``inf`` when no facility is
        reachable within ``max_distance_m`` or the origin could not be snapped.
    facility : ndarray of int64
        Row of the nearest facility in the facilities input; -1 where ``distance_m`` is inf.
    unsnapped_facilities : ndarray of int64
        Rows of facilities with no street within the snap distance; they were ignored.
    max_distance_m : float
        The search limit used (``inf`` if none).
    """

    distance_m: Floats
    facility: Ints
    unsnapped_facilities: Ints
    max_distance_m: float

    def covered(self, within_m: float) -> npt.NDArray[np.bool_]:
        """Return True where an origin's walk is at most ``within_m`` (the ``<=`` rule)."""
        return self.distance_m <= within_m


def nearest_facility(
    graph: StreetGraph, *, origins: Snapped, facilities: Snapped, max_distance_m: float | None = None
) -> Coverage:
    """Give every origin its walking distance to the nearest facility and which facility it is.

    Parameters
    ----------
    graph : StreetGraph
        The network both point sets were snapped to.
    origins, facilities : Snapped
        Output of :func:`snap` on ``graph``. Invalid origins get ``inf``; invalid facilities are
        ignored and listed in ``Coverage.unsnapped_facilities``.
    max_distance_m : float, optional
        Search limit: walks longer than this are reported as ``inf`` (and the search stops
        there, which is faster). A walk of exactly this length is kept.

    Returns
    -------
    Coverage
        Distances and facility rows in origin order. An empty facility set gives all ``inf``.
    """
    limit = check_query(graph, max_distance_m, what="network query", origins=origins,
                        facilities=facilities)
    node_d, node_f = _node_distances(graph, facilities, limit)
    n = len(origins)
    distance = np.full(n, np.inf)
    facility = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(origins.valid).astype(np.int64)
    best, from_u = via_ends(graph, node_d, origins, rows)
    e = origins.edge[rows]
    best_f = np.where(from_u, node_f[graph.edge_source[e]], node_f[graph.edge_target[e]])
    same_o, same_f, same_d = _same_edge(origins, rows, facilities)
    better = same_d < best[same_o]
    best[same_o[better]] = same_d[better]
    best_f[same_o[better]] = same_f[better]
    total = best + origins.offset_m[rows]
    reached = np.isfinite(total) & (total <= limit)
    distance[rows[reached]] = total[reached]
    facility[rows[reached]] = best_f[reached]
    return Coverage(distance_m=distance, facility=facility,
                    unsnapped_facilities=np.flatnonzero(~facilities.valid).astype(np.int64),
                    max_distance_m=limit)


def catchment_edges(graph: StreetGraph, facilities: Snapped, *, max_distance_m: float) -> gpd.GeoDataFrame:
    """Return the street pieces within ``max_distance_m`` walk of any facility.

    A point on the street counts as reached when its walk to the nearest facility (including
    the facility's snap offset, excluding any building's) is at most ``max_distance_m``. Pieces
    touching on an edge are merged, so each edge yields zero, one or a few disjoint pieces.
    For one facility's own catchment, pass ``facilities.take([i])``.

    Parameters
    ----------
    graph : StreetGraph
        The network the facilities were snapped to.
    facilities : Snapped
        Snapped facilities; invalid ones are ignored.
    max_distance_m : float
        Walking limit in metres (finite, >= 0).

    Returns
    -------
    GeoDataFrame
        One row per reached piece, in ``graph.crs``: ``edge`` (graph edge index), ``edge_row``
        (row in the input edges frame), ``start_m`` and ``end_m`` (positions from the edge's
        source, in ``length_m`` units) and the clipped LineString ``geometry``.
    """
    limit = check_query(graph, max_distance_m, what="catchment query", finite=True,
                        facilities=facilities)
    node_d, _ = _node_distances(graph, facilities, limit)
    edge, lo, hi = _merge_intervals(*_reach_intervals(graph, facilities, node_d, limit))
    full = (lo <= 0) & (hi >= graph.edge_length_m[edge])
    geometry = graph.edge_geometry[edge].copy()
    part = np.flatnonzero(~full)
    geometry[part] = _substrings(graph, edge[part], lo[part], hi[part])
    frame = pd.DataFrame({"edge": edge, "edge_row": graph.edge_row[edge], "start_m": lo, "end_m": hi})
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=graph.crs)


# --- querying -------------------------------------------------------------------------------------


def _node_distances(graph: StreetGraph, facilities: Snapped, limit: float) -> tuple[Floats, Ints]:
    """Per street node: distance to the nearest valid facility (inf beyond ``limit``) and its row."""
    n = graph.n_nodes
    matrix, rows = augmented(graph, facilities)
    k = rows.shape[0]
    if k == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    dist, _, source = dijkstra(matrix, directed=True, indices=np.arange(n, n + k), min_only=True,
                               return_predecessors=True, limit=limit)
    source = source[:n]
    found = source >= n
    facility = np.full(n, -1, dtype=np.int64)
    facility[found] = rows[source[found] - n]
    return np.asarray(dist[:n], dtype=np.float64), facility


def _same_edge(origins: Snapped, rows: Ints, facilities: Snapped) -> tuple[Ints, Ints, Floats]:
    """Each origin's best straight walk along an edge it shares with a facility: (position in
    ``rows``, facility row, distance without the origin's offset); ties go to the lower row."""
    f_rows = np.flatnonzero(facilities.valid).astype(np.int64)
    o_pos, f_pos, d = same_edge_pairs(facilities, f_rows, origins, rows)
    pick = np.lexsort((d, o_pos))  # stable: among equal walks the lower facility row stays first
    o_pos, f_pos, d = o_pos[pick], f_pos[pick], d[pick]
    lead = np.ones(o_pos.shape[0], dtype=bool)
    lead[1:] = o_pos[1:] != o_pos[:-1]
    return o_pos[lead], f_pos[lead], d[lead]


# --- catchments -----------------------------------------------------------------------------------


def _reach_intervals(
    graph: StreetGraph, facilities: Snapped, node_d: Floats, limit: float
) -> tuple[Ints, Floats, Floats]:
    """Reached intervals per edge: from each end node, and around facilities on the edge itself."""
    length = graph.edge_length_m
    all_edges = np.arange(graph.n_edges, dtype=np.int64)
    from_u = limit - node_d[graph.edge_source]
    from_v = limit - node_d[graph.edge_target]
    rows = np.flatnonzero(facilities.valid)
    f_edge = facilities.edge[rows]
    radius = limit - facilities.offset_m[rows]
    centre = facilities.along_m[rows]
    edge = np.concatenate([all_edges, all_edges, f_edge])
    lo = np.concatenate([np.zeros(graph.n_edges), length - from_v, centre - radius])
    hi = np.concatenate([from_u, length, centre + radius])
    lo = np.clip(lo, 0.0, length[edge])
    hi = np.clip(hi, 0.0, length[edge])
    keep = hi > lo  # positive length only: a lone reached node is not a drawable piece
    return edge[keep], lo[keep], hi[keep]


def _merge_intervals(edge: Ints, lo: Floats, hi: Floats) -> tuple[Ints, Floats, Floats]:
    """Union of intervals per edge, vectorised: sort, then start a piece where a gap opens."""
    order = np.lexsort((lo, edge))
    edge, lo, hi = edge[order], lo[order], hi[order]
    if edge.shape[0] == 0:
        return edge, lo, hi
    reach = pd.Series(hi).groupby(edge).cummax().to_numpy()
    new = np.ones(edge.shape[0], dtype=bool)
    new[1:] = (edge[1:] != edge[:-1]) | (lo[1:] > reach[:-1])
    starts = np.flatnonzero(new)
    return edge[starts], lo[starts], np.maximum.reduceat(hi, starts)


def _substrings(graph: StreetGraph, edge: Ints, lo: Floats, hi: Floats) -> Objects:
    """Cut ``edge_geometry[edge]`` to [lo, hi] (length_m units), vectorised over all pieces."""
    if edge.shape[0] == 0:
        return np.empty(0, dtype=object)
    geoms = graph.edge_geometry[edge]
    scale = shapely.length(geoms) / graph.edge_length_m[edge]
    g_lo, g_hi = lo * scale, hi * scale
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    step = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    group_start = np.searchsorted(owner, owner, side="left")
    at = step - step[group_start]
    inside = (at > g_lo[owner]) & (at < g_hi[owner])
    ends = [shapely.get_coordinates(shapely.line_interpolate_point(geoms, g)) for g in (g_lo, g_hi)]
    pieces = np.arange(edge.shape[0])
    all_xy = np.concatenate([ends[0], coords[inside], ends[1]])
    all_owner = np.concatenate([pieces, owner[inside], pieces])
    all_at = np.concatenate([g_lo, at[inside], g_hi])
    n_in = int(inside.sum())
    kind = np.concatenate([np.zeros(pieces.shape[0]), np.ones(n_in), np.full(pieces.shape[0], 2.0)])
    order = np.lexsort((kind, all_at, all_owner))
    return np.asarray(shapely.linestrings(all_xy[order], indices=all_owner[order]), dtype=object)
