"""Where the next facilities should go: maximal covering location with existing ones kept.

The problem: choose ``k`` candidate sites maximising the weight (e.g. elderly residents) of demand
points newly brought within walking distance ``d``; demand already covered by existing facilities
weighs nothing. It is NP-hard, but its objective is monotone submodular, so the greedy choice
(take the site with the largest marginal gain, k times) reaches at least ``1 - 1/e`` of the
optimum; lazy evaluation (CELF) re-scores only the sites at the top of a heap. :func:`exact_mclp`
solves small instances exactly with PuLP/CBC to measure how close the greedy comes.

Coverage follows :mod:`gridmap.analysis.network` to the bit by construction: both build on
:mod:`gridmap.analysis.graph`. Each candidate becomes a virtual node of the same augmented graph
(:func:`~gridmap.analysis.graph.augmented`), a bounded single-source Dijkstra runs per candidate
(batched), and a demand point is covered when the better of its edge's two ends
(:func:`~gridmap.analysis.graph.via_ends`), or a straight walk along a shared edge
(:func:`~gridmap.analysis.graph.same_edge_pairs`), plus its own offset is ``<= d``. Adding the
chosen sites as facilities to :func:`~gridmap.analysis.network.nearest_facility` therefore
covers exactly the demand the siting claims.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gridmap.analysis._validate import AnalysisInputError, Problems
from gridmap.analysis.graph import (
    Snapped,
    StreetGraph,
    augmented,
    check_query,
    same_edge_pairs,
    via_ends,
)

__all__ = ["Siting", "candidate_nodes", "coverage_matrix", "exact_mclp", "greedy_mclp"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_BATCH_CELLS = 20_000_000
"""Distance-matrix cells (float64) per Dijkstra batch: about 160 MB at most."""


@dataclass(frozen=True)
class Siting:
    """Sites chosen, in the order a greedy would add them, and what each one adds.

    Attributes
    ----------
    sites : ndarray of int64
        Candidate rows, in order of choice.
    gain : ndarray of float64
        Marginal weight each site adds given the sites before it (non-increasing for the greedy).
    covered : ndarray of bool
        Demand points newly covered by the chosen sites (existing coverage not included).
    """

    sites: Ints
    gain: Floats
    covered: Bools

    @property
    def total(self) -> float:
        """Weight newly covered by all chosen sites."""
        return float(self.gain.sum())

    @property
    def cumulative(self) -> Floats:
        """Weight newly covered after each site."""
        return np.cumsum(self.gain)


def coverage_matrix(graph: StreetGraph, *, candidates: Snapped, demand: Snapped,
                    max_distance_m: float, batch_size: int | None = None) -> sp.csr_matrix:
    """Which candidate covers which demand point within ``max_distance_m`` along the streets.

    Parameters
    ----------
    graph : StreetGraph
        The network both point sets were snapped to.
    candidates, demand : Snapped
        Snapped candidate sites and demand points; invalid rows cover / are covered by nothing.
    max_distance_m : float
        Walking limit in metres, snap offsets included; the ``<=`` rule applies.
    batch_size : int, optional
        Candidates per Dijkstra call; by default as many as keep a batch near 160 MB.

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape (len(candidates), len(demand))
    """
    limit = check_query(graph, max_distance_m, what="siting query", finite=True,
                        candidates=candidates, demand=demand)
    n_c, n_d = len(candidates), len(demand)
    matrix, c_rows = augmented(graph, candidates)
    d_rows = np.flatnonzero(demand.valid).astype(np.int64)
    if c_rows.size == 0 or d_rows.size == 0:
        return sp.csr_matrix((n_c, n_d), dtype=bool)
    off = demand.offset_m[d_rows]
    size = batch_size or max(1, _BATCH_CELLS // max(matrix.shape[0], d_rows.size))
    hits_c, hits_d = [], []
    for start in range(0, c_rows.size, size):
        batch = np.arange(start, min(start + size, c_rows.size))
        dist = dijkstra(matrix, directed=True, indices=graph.n_nodes + batch, limit=limit)
        total = via_ends(graph, dist, demand, d_rows)[0] + off
        i, j = np.nonzero(total <= limit)
        hits_c.append(c_rows[batch[i]])
        hits_d.append(d_rows[j])
    d_pos, same_c, walk = same_edge_pairs(candidates, c_rows, demand, d_rows)
    same = walk + off[d_pos] <= limit
    rows = np.concatenate([*hits_c, same_c[same]])
    cols = np.concatenate([*hits_d, d_rows[d_pos[same]]])
    covers = sp.csr_matrix((np.ones(rows.shape[0], dtype=bool), (rows, cols)), shape=(n_c, n_d))
    covers.sum_duplicates()
    return covers


def candidate_nodes(graph: StreetGraph, *, demand: Snapped, max_distance_m: float,
                    max_candidates: int = 2000) -> Ints:
    """Street nodes within walking distance of at least one demand point, spatially thinned.

    Parameters
    ----------
    graph : StreetGraph
        The street network.
    demand : Snapped
        Demand points still to cover (e.g. uncovered buildings with elderly residents).
    max_distance_m : float
        Walking limit; a node farther than this from every demand point cannot help.
    max_candidates : int, default 2000
        Upper bound on the nodes returned: the node set is thinned on a square grid, keeping
        per cell the node reaching the most demand, with cells grown until few enough remain.

    Returns
    -------
    ndarray of int64
        Graph node indices, ascending.
    """
    limit = check_query(graph, max_distance_m, what="siting query", finite=True, demand=demand)
    if max_candidates < 0:
        raise AnalysisInputError("candidate nodes", [f"max_candidates must be >= 0, got {max_candidates}"])
    matrix, rows = augmented(graph, demand)
    if rows.size == 0 or max_candidates == 0:
        return np.empty(0, dtype=np.int64)
    # Walks are symmetric, so a search from every demand point at once finds the nodes in reach.
    dist = dijkstra(matrix, directed=True, indices=graph.n_nodes + np.arange(rows.size),
                    min_only=True, limit=limit)
    reach = np.flatnonzero(np.isfinite(dist[:graph.n_nodes])).astype(np.int64)
    if reach.size <= max_candidates:
        return reach
    # Rank nodes by how many graph neighbours are also in reach: central nodes first per cell.
    degree = np.diff(graph.csr.indptr)[reach]
    xy = graph.xy[reach]
    cell = max(limit / 20.0, 1.0)
    while True:
        key = np.floor((xy - xy.min(axis=0)) / cell).astype(np.int64)
        order = np.lexsort((-degree, key[:, 1], key[:, 0]))
        k = key[order]
        first = np.r_[True, (k[1:] != k[:-1]).any(axis=1)]
        if int(first.sum()) <= max_candidates:
            return np.sort(reach[order[first]])
        cell *= 1.25


def greedy_mclp(covers: sp.spmatrix, weights: npt.ArrayLike, *, k: int,
                already_covered: npt.ArrayLike | None = None) -> Siting:
    """Choose up to ``k`` sites greedily by marginal covered weight, with lazy evaluation (CELF).

    Parameters
    ----------
    covers : sparse matrix of bool, shape (candidates, demand)
        From :func:`coverage_matrix`.
    weights : array of float, shape (demand,)
        Non-negative weight per demand point (e.g. elderly residents).
    k : int
        Sites to choose (>= 0). Fewer are returned when no candidate adds positive weight.
    already_covered : array of bool, optional
        Demand covered by existing facilities: it weighs nothing.

    Returns
    -------
    Siting
        Sites in order of choice with non-increasing gains; ties go to the lower candidate row.
    """
    matrix, w, done = _check_problem(covers, weights, k, already_covered)
    n_c = matrix.shape[0]
    indptr, indices = matrix.indptr, matrix.indices
    covered = np.zeros(w.shape[0], dtype=bool)
    fresh = np.asarray(matrix.astype(np.float64) @ w, dtype=np.float64).ravel()
    heap = [(-fresh[c], c, 0) for c in range(n_c) if fresh[c] > 0]
    heapq.heapify(heap)
    sites: list[int] = []
    gains: list[float] = []
    while heap and len(sites) < k:
        neg, c, stamp = heapq.heappop(heap)
        if stamp != len(sites):  # stale bound: re-score and push back
            cols = indices[indptr[c]:indptr[c + 1]]
            gain = float(w[cols][~covered[cols]].sum())
            if gain > 0:
                heapq.heappush(heap, (-gain, c, len(sites)))
            continue
        sites.append(c)
        gains.append(-neg)
        covered[indices[indptr[c]:indptr[c + 1]]] = True
    return Siting(sites=np.asarray(sites, dtype=np.int64), gain=np.asarray(gains, dtype=np.float64),
                  covered=covered & ~done)


def exact_mclp(covers: sp.spmatrix, weights: npt.ArrayLike, *, k: int,
               already_covered: npt.ArrayLike | None = None, time_limit_s: float = 60.0) -> Siting:
    """Solve the maximal covering problem exactly with PuLP/CBC (small instances only).

    Same inputs as :func:`greedy_mclp`. The chosen sites are listed in greedy order within the
    optimal set, so ``gain`` reads the same way; zero-gain sites are dropped.

    Raises
    ------
    AnalysisInputError
        When CBC does not prove optimality within ``time_limit_s``.
    """
    import pulp  # optional: only the tests and small studies need a MIP solver

    matrix, w, done = _check_problem(covers, weights, k, already_covered)
    n_c, n_d = matrix.shape
    by_demand = matrix.tocsc()
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    # PuLP 3.3+ attaches variables to the model; older releases only have LpVariable(...).
    new = getattr(problem, "add_variable", None) or pulp.LpVariable
    x = [new(f"x{c}", cat="Binary") for c in range(n_c)]
    y = {j: new(f"y{j}", lowBound=0, upBound=1) for j in range(n_d) if w[j] > 0}
    problem += pulp.lpSum(float(w[j]) * yj for j, yj in y.items())
    problem += pulp.lpSum(x) <= k
    for j, yj in y.items():
        sites = by_demand.indices[by_demand.indptr[j]:by_demand.indptr[j + 1]]
        problem += yj <= pulp.lpSum(x[c] for c in sites)
    status = problem.solve(_cbc(time_limit_s))
    if pulp.LpStatus[status] != "Optimal":
        raise AnalysisInputError("exact siting", [f"CBC ended with status {pulp.LpStatus[status]}"])
    chosen = np.asarray([c for c in range(n_c) if (x[c].value() or 0) > 0.5], dtype=np.int64)
    sub = greedy_mclp(matrix[chosen], w, k=k, already_covered=done)
    return Siting(sites=chosen[sub.sites], gain=sub.gain, covered=sub.covered)


def _cbc(time_limit_s: float) -> object:
    """The CBC binary shipped in PuLP's wheel (PULP_CBC_CMD is deprecated from PuLP 3.3)."""
    import pulp
    from pulp.apis import coin_api

    return pulp.COIN_CMD(path=coin_api.pulp_cbc_path, msg=False, timeLimit=time_limit_s)


# --- helpers --------------------------------------------------------------------------------------


def _check_problem(covers: sp.spmatrix, weights: npt.ArrayLike, k: int,
                   already_covered: npt.ArrayLike | None) -> tuple[sp.csr_matrix, Floats, Bools]:
    """Validate a covering problem; return the CSR matrix, effective weights, covered mask."""
    problems = Problems("siting problem")
    matrix = sp.csr_matrix(covers, dtype=bool)
    matrix.sum_duplicates()
    w = np.asarray(weights, dtype=np.float64).copy()
    if w.ndim != 1 or w.shape[0] != matrix.shape[1]:
        problems.add(f"weights must have one value per demand point ({matrix.shape[1]}), "
                     f"got shape {w.shape}")
    elif not (np.isfinite(w) & (w >= 0)).all():
        problems.add("weights must be finite and >= 0")
    if k < 0:
        problems.add(f"k must be >= 0, got {k}")
    done = np.zeros(matrix.shape[1], dtype=bool)
    if already_covered is not None:
        given = np.asarray(already_covered, dtype=bool)
        if given.shape != done.shape:
            problems.add(f"already_covered must have shape {done.shape}, got {given.shape}")
        else:
            done = given
    problems.raise_if_any()
    w[done] = 0.0
    return matrix, w, done
