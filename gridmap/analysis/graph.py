"""The street graph every walking analysis runs on, and the one way points join it.

Everything that network (nearest facility, catchments) and siting (coverage matrix, candidate
nodes) have in common lives here, written once, so their answers agree to the bit by
construction rather than by copying:

* :func:`build_graph` makes a :class:`StreetGraph` (validated, reprojected to a metric CRS);
* :class:`Snapped` describes points on its edges (made by :func:`gridmap.analysis.snap.snap`);
* :func:`augmented` adds one virtual source node per snapped point, joined to its edge's two
  end nodes (snap offset plus the walk along the edge), for ``scipy``'s Dijkstra;
* :func:`via_ends` finishes a walk at a snapped point through the better of its edge's ends;
* :func:`same_edge_pairs` finds the straight walks along an edge two points share;
* :func:`check_query` validates a query's limit and snapped sets, all problems at once.
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

from gridmap.analysis import _validate

__all__ = ["Snapped", "StreetGraph", "augmented", "build_graph", "check_query", "same_edge_pairs",
           "via_ends"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
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
class Snapped:
    """Points snapped to street edges; row ``i`` describes input point ``i``.

    Attributes
    ----------
    edge : ndarray of int64
        Index into the graph's edge arrays; -1 where ``valid`` is False.
    along_m : ndarray of float64
        Distance from the edge's source node along the edge (0..length_m); NaN where invalid.
    offset_m : ndarray of float64
        Straight-line distance from the point to the edge, walked in addition; NaN where invalid.
    valid : ndarray of bool
        False for null/empty points and for points farther than ``max_snap_m`` from every street.
    """

    edge: Ints
    along_m: Floats
    offset_m: Floats
    valid: Bools

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    def take(self, indices: npt.ArrayLike) -> Snapped:
        """Return the rows ``indices`` (positions or a boolean mask), e.g. one facility's catchment."""
        idx = np.asarray(indices)
        return Snapped(edge=self.edge[idx], along_m=self.along_m[idx], offset_m=self.offset_m[idx],
                       valid=self.valid[idx])


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
        Projected CRS in metres to measure in, e.g. ``"EPSG:4550"`` for Shenyang.

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


# --- points on the graph --------------------------------------------------------------------------


def augmented(graph: StreetGraph, points: Snapped) -> tuple[sp.csr_matrix, Ints]:
    """Return the routing matrix with one virtual source node per valid point, and their rows.

    Virtual node ``graph.n_nodes + i`` stands for ``points`` row ``rows[i]``; it has arcs to its
    edge's end nodes (snap offset plus the walk along the edge) and no arcs into it, so a
    Dijkstra from it walks out of the point and never through it.
    """
    n = graph.n_nodes
    rows = np.flatnonzero(points.valid).astype(np.int64)
    e, a, off = points.edge[rows], points.along_m[rows], points.offset_m[rows]
    u, v, length = graph.edge_source[e], graph.edge_target[e], graph.edge_length_m[e]
    to_u, to_v = off + a, off + (length - a)
    loop = u == v  # a self-loop: one arc, the shorter way round
    cols = np.column_stack([u, v]).ravel()
    data = np.column_stack([np.where(loop, np.minimum(to_u, to_v), to_u), to_v]).ravel()
    keep = np.column_stack([np.ones(rows.shape[0], dtype=bool), ~loop]).ravel()
    base = graph.csr
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(np.where(loop, 1, 2))])
    size = n + rows.shape[0]
    matrix = sp.csr_matrix((np.concatenate([base.data, data[keep]]),
                            np.concatenate([base.indices, cols[keep]]), indptr), shape=(size, size))
    return matrix, rows


def via_ends(graph: StreetGraph, node_dist: Floats, points: Snapped,
             rows: Ints) -> tuple[Floats, Bools]:
    """Walk to each point ``rows`` of ``points`` through the better end of its edge.

    ``node_dist`` holds distances to street nodes on its last axis (one row per source, or one
    vector). Returns the walks, without the point's own snap offset (callers add it last, so
    every analysis rounds the same sums in the same order), and where the source end won.
    """
    e, a = points.edge[rows], points.along_m[rows]
    u, v, length = graph.edge_source[e], graph.edge_target[e], graph.edge_length_m[e]
    via_u, via_v = node_dist[..., u] + a, node_dist[..., v] + (length - a)
    return np.minimum(via_u, via_v), via_u <= via_v


def same_edge_pairs(sources: Snapped, source_rows: Ints, targets: Snapped,
                    target_rows: Ints) -> tuple[Ints, Ints, Floats]:
    """Straight walks along an edge shared by a source and a target point.

    Returns positions into ``target_rows`` and rows of ``sources`` (from ``source_rows``) of every
    pair on one edge, and the walk from the source: its snap offset plus the distance along the
    edge, without the target's offset. Pairs of one target come in ascending source row.
    """
    order = source_rows[np.argsort(sources.edge[source_rows], kind="stable")]
    s_edge = sources.edge[order]
    t_edge = targets.edge[target_rows]
    start = np.searchsorted(s_edge, t_edge, side="left")
    count = np.searchsorted(s_edge, t_edge, side="right") - start
    t_pos = np.repeat(np.arange(t_edge.shape[0], dtype=np.int64), count)
    first = np.repeat(np.cumsum(count) - count, count)
    s_row = order[np.repeat(start, count) + np.arange(t_pos.shape[0]) - first].astype(np.int64)
    walk = (np.abs(targets.along_m[target_rows[t_pos]] - sources.along_m[s_row])
            + sources.offset_m[s_row])
    return t_pos, s_row, walk


def check_query(graph: StreetGraph, max_distance_m: float | None, *, what: str,
                finite: bool = False, **sets: Snapped) -> float:
    """Validate a query's limit and that its snapped sets belong to ``graph``; return the limit.

    ``None`` means no limit (``inf``) unless ``finite`` asks for a finite one.
    """
    problems = _validate.Problems(what)
    limit = math.inf if max_distance_m is None else float(max_distance_m)
    if not limit >= 0 or (finite and not math.isfinite(limit)):
        kind = "finite and >= 0" if finite else ">= 0"
        problems.add(f"max_distance_m must be {kind}, got {max_distance_m}")
    for name, snapped in sets.items():
        if not isinstance(snapped, Snapped):
            problems.add(f"{name} must be a Snapped (from snap()), not {type(snapped).__name__}")
        elif snapped.valid.any() and snapped.edge[snapped.valid].max() >= graph.n_edges:
            problems.add(f"{name} refers to edges this graph does not have (snapped to another graph?)")
    problems.raise_if_any()
    return limit
