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

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from gridmap.analysis import _validate
from gridmap.analysis._validate import AnalysisInputError
from gridmap.analysis.snap import Snapped, snap

__all__ = [
    "AnalysisInputError", "Coverage", "Snapped", "StreetGraph", "build_graph", "catchment_edges",
    "nearest_facility", "snap",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class StreetGraph:
    """An undirected street network in a metric CRS, built once and reused for many queries.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected metric CRS of ``xy`` and ``edge_geometry``.
    node_ids : ndarray of int64
        Input ``node_id`` per node; node ``i`` of the graph is ``node_ids[i]``.
    xy : ndarray of float64, shape (n, 2)
        Node coordinates in metres.
    csr : scipy.sparse.csr_matrix
        Symmetric n x n routing matrix of edge lengths: parallel edges reduced to the shortest,
        self-loops left out (neither can shorten a route). Explicit zeros are zero-length edges.
    edge_source, edge_target : ndarray of int64
        Node indices of each edge; ``edge_geometry`` runs from source to target.
    edge_length_m : ndarray of float64
        Walking length of each edge (the input ``length_m``).
    edge_geometry : ndarray of LineString
        Edge geometries in ``crs``.
    edge_row : ndarray of int64
        Position of each edge in the input ``edges`` frame (to join results back).
    edge_index : shapely.STRtree
        Spatial index over ``edge_geometry`` for snapping.
    """

    crs: pyproj.CRS
    node_ids: Ints
    xy: Floats
    csr: sp.csr_matrix
    edge_source: Ints
    edge_target: Ints
    edge_length_m: Floats
    edge_geometry: Objects
    edge_row: Ints
    edge_index: shapely.STRtree

    @property
    def n_nodes(self) -> int:
        """Number of street nodes."""
        return int(self.node_ids.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of street edges available for snapping."""
        return int(self.edge_source.shape[0])


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


def build_graph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, crs: str | pyproj.CRS) -> StreetGraph:
    """Build a :class:`StreetGraph` from node and edge frames, reprojected to a metric CRS.

    Parameters
    ----------
    nodes : GeoDataFrame
        Column ``node_id`` (unique integers) and Point geometries, with a CRS.
    edges : GeoDataFrame
        Columns ``source``, ``target`` (node ids), ``length_m`` (finite, >= 0) and LineString
        geometries, with a CRS. Direction is ignored; geometries drawn target-to-source are
        reversed. Parallel edges route over the shortest; exact duplicates (same end nodes and
        length to the centimetre, e.g. one row per direction) are dropped; self-loops are kept for
        snapping only.
    crs : str or pyproj.CRS
        Projected CRS in metres to measure in, e.g. ``"EPSG:4549"`` for Shenyang.

    Returns
    -------
    StreetGraph

    Raises
    ------
    AnalysisInputError
        A ``ValueError`` listing every problem found: missing CRS, geographic target CRS,
        missing columns, wrong geometry types, duplicate node ids, unknown node ids in edges,
        bad lengths.
    """
    target, src, tgt, length = _check_network(nodes, edges, crs)
    nodes_m = nodes.to_crs(target)
    edges_m = edges.to_crs(target)
    xy = shapely.get_coordinates(np.asarray(nodes_m.geometry.array, dtype=object))
    geoms = _orient(np.asarray(edges_m.geometry.array, dtype=object), xy, src, tgt)

    lo, hi = np.minimum(src, tgt), np.maximum(src, tgt)
    keep = ~pd.DataFrame({"lo": lo, "hi": hi, "cm": np.round(length * 100)}).duplicated().to_numpy()
    rows = np.flatnonzero(keep).astype(np.int64)
    return StreetGraph(
        crs=target,
        node_ids=nodes["node_id"].to_numpy(dtype=np.int64),
        xy=xy,
        csr=_routing_matrix(lo, hi, length, len(nodes)),
        edge_source=src[rows],
        edge_target=tgt[rows],
        edge_length_m=length[rows],
        edge_geometry=geoms[rows],
        edge_row=rows,
        edge_index=shapely.STRtree(geoms[rows]),
    )


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
    limit = _check_query(graph, max_distance_m, origins=origins, facilities=facilities)
    node_d, node_f = _node_distances(graph, facilities, limit)
    n = len(origins)
    distance = np.full(n, np.inf)
    facility = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(origins.valid)
    e, a, off = origins.edge[rows], origins.along_m[rows], origins.offset_m[rows]
    u, v, length = graph.edge_source[e], graph.edge_target[e], graph.edge_length_m[e]
    via_u, via_v = node_d[u] + a, node_d[v] + (length - a)
    best = np.minimum(via_u, via_v)
    best_f = np.where(via_u <= via_v, node_f[u], node_f[v])
    same_o, same_f, same_d = _same_edge(origins.take(rows), facilities)
    better = same_d < best[same_o]
    best[same_o[better]] = same_d[better]
    best_f[same_o[better]] = same_f[better]
    total = best + off
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
    limit = _check_query(graph, max_distance_m, facilities=facilities)
    if math.isinf(limit):
        raise AnalysisInputError("catchment query", [f"max_distance_m must be finite, got {limit}"])
    node_d, _ = _node_distances(graph, facilities, limit)
    edge, lo, hi = _merge_intervals(*_reach_intervals(graph, facilities, node_d, limit))
    full = (lo <= 0) & (hi >= graph.edge_length_m[edge])
    geometry = graph.edge_geometry[edge].copy()
    part = np.flatnonzero(~full)
    geometry[part] = _substrings(graph, edge[part], lo[part], hi[part])
    frame = pd.DataFrame({"edge": edge, "edge_row": graph.edge_row[edge], "start_m": lo, "end_m": hi})
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=graph.crs)


# --- building -------------------------------------------------------------------------------------


def _check_network(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, crs: str | pyproj.CRS
) -> tuple[pyproj.CRS, Ints, Ints, Floats]:
    """Validate everything, raise once; return target CRS, source/target node indices, lengths."""
    problems = _validate.Problems("street network")
    target = _validate.metric_crs(crs, problems)
    frames_ok = True
    for name, frame, cols, kind in (("nodes", nodes, ["node_id"], "Point"),
                                    ("edges", edges, ["source", "target", "length_m"], "LineString")):
        if not isinstance(frame, gpd.GeoDataFrame):
            problems.add(f"{name} must be a GeoDataFrame, not {type(frame).__name__}")
            frames_ok = False
            continue
        _validate.has_crs(frame, name, problems)
        _validate.geometry_types(frame.geometry, name, (kind,), problems, allow_missing=False)
        frames_ok &= _validate.columns(frame, name, cols, problems)
    if not frames_ok:
        problems.raise_if_any()
    ids = nodes["node_id"]
    if not pd.api.types.is_integer_dtype(ids):
        problems.add(f"nodes.node_id must be integers, got dtype {ids.dtype}")
    elif ids.duplicated().any():
        problems.add(f"nodes.node_id has {int(ids.duplicated().sum())} duplicate id(s), e.g. "
                     f"{ids[ids.duplicated()].iloc[0]}")
    index = pd.Index(ids)
    ends = []
    for col in ("source", "target"):
        pos = index.get_indexer(edges[col]) if index.is_unique else np.zeros(len(edges), dtype=np.intp)
        if (pos < 0).any():
            unknown = pd.unique(edges[col][pos < 0])
            problems.add(f"edges.{col} has {int((pos < 0).sum())} id(s) not in nodes.node_id, e.g. "
                         f"{unknown[:5].tolist()}")
        ends.append(pos.astype(np.int64))
    length = pd.to_numeric(edges["length_m"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(length) & (length >= 0))
    if bad.any():
        problems.add(f"edges.length_m has {int(bad.sum())} missing, negative or non-finite value(s)")
    problems.raise_if_any()
    assert target is not None  # a problem would have been raised
    return target, ends[0], ends[1], length


def _orient(geoms: Objects, xy: Floats, src: Ints, tgt: Ints) -> Objects:
    """Reverse line geometries whose first vertex is nearer the target node than the source."""
    first = shapely.get_coordinates(shapely.get_point(geoms, 0))
    backwards = (np.hypot(*(first - xy[tgt]).T) < np.hypot(*(first - xy[src]).T))
    out = geoms.copy()
    out[backwards] = shapely.reverse(geoms[backwards])
    return out


def _routing_matrix(lo: Ints, hi: Ints, length: Floats, n: int) -> sp.csr_matrix:
    """Symmetric CSR of the shortest edge between each node pair; self-loops left out."""
    pair = lo != hi
    lo, hi, length = lo[pair], hi[pair], length[pair]
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    first = np.ones(lo.shape[0], dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, length = lo[first], hi[first], length[first]
    # No duplicate (row, col) remains, so nothing is summed and zero-length edges stay as explicit zeros.
    rows, cols = np.concatenate([lo, hi]), np.concatenate([hi, lo])
    return sp.csr_matrix((np.concatenate([length, length]), (rows, cols)), shape=(n, n))


# --- querying -------------------------------------------------------------------------------------


def _check_query(graph: StreetGraph, max_distance_m: float | None, **sets: Snapped) -> float:
    """Validate the limit and that the snapped sets belong to ``graph``; return the limit as a float."""
    problems = _validate.Problems("network query")
    limit = math.inf if max_distance_m is None else float(max_distance_m)
    if not limit >= 0:
        problems.add(f"max_distance_m must be >= 0, got {max_distance_m}")
    for name, snapped in sets.items():
        if not isinstance(snapped, Snapped):
            problems.add(f"{name} must be a Snapped (from snap()), not {type(snapped).__name__}")
        elif snapped.valid.any() and snapped.edge[snapped.valid].max() >= graph.n_edges:
            problems.add(f"{name} refers to edges this graph does not have (snapped to another graph?)")
    problems.raise_if_any()
    return limit


def _node_distances(graph: StreetGraph, facilities: Snapped, limit: float) -> tuple[Floats, Ints]:
    """Per street node: distance to the nearest valid facility (inf beyond ``limit``) and its row."""
    n = graph.n_nodes
    rows = np.flatnonzero(facilities.valid).astype(np.int64)
    k = rows.shape[0]
    if k == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    e, a, off = facilities.edge[rows], facilities.along_m[rows], facilities.offset_m[rows]
    u, v, length = graph.edge_source[e], graph.edge_target[e], graph.edge_length_m[e]
    to_u, to_v = off + a, off + (length - a)
    loop = u == v  # a self-loop: one arc, the shorter way round
    cols = np.column_stack([u, v]).ravel()
    data = np.column_stack([np.where(loop, np.minimum(to_u, to_v), to_u), to_v]).ravel()
    keep = np.column_stack([np.ones(k, dtype=bool), ~loop]).ravel()
    base = graph.csr
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(np.where(loop, 1, 2))])
    augmented = sp.csr_matrix(
        (np.concatenate([base.data, data[keep]]), np.concatenate([base.indices, cols[keep]]), indptr),
        shape=(n + k, n + k),
    )
    dist, _, source = dijkstra(augmented, directed=True, indices=np.arange(n, n + k), min_only=True,
                               return_predecessors=True, limit=limit)
    source = source[:n]
    found = source >= n
    facility = np.full(n, -1, dtype=np.int64)
    facility[found] = rows[source[found] - n]
    return np.asarray(dist[:n], dtype=np.float64), facility


def _same_edge(origins: Snapped, facilities: Snapped) -> tuple[Ints, Ints, Floats]:
    """Walks straight along a shared edge: (origin position, facility row, distance w/o origin offset)."""
    f_rows = np.flatnonzero(facilities.valid).astype(np.int64)
    order = f_rows[np.argsort(facilities.edge[f_rows], kind="stable")]
    f_edge = facilities.edge[order]
    o_edge = origins.edge
    start = np.searchsorted(f_edge, o_edge, side="left")
    count = np.searchsorted(f_edge, o_edge, side="right") - start
    o_pos = np.repeat(np.arange(o_edge.shape[0], dtype=np.int64), count)
    first = np.repeat(np.cumsum(count) - count, count)
    f_pos = order[np.repeat(start, count) + np.arange(o_pos.shape[0]) - first]
    d = np.abs(origins.along_m[o_pos] - facilities.along_m[f_pos]) + facilities.offset_m[f_pos]
    # Keep each origin's best pair only.
    pick = np.lexsort((d, o_pos))
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
