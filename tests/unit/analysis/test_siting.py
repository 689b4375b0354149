"""Siting (maximal covering location): greedy against the exact optimum, gains, coverage matrix.

Random instances and lattices are built in code, in EPSG:4550 metres around a Shenyang-like
origin; the coverage matrix is checked against :func:`nearest_facility` one candidate at a time.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely

from gridmap.analysis import siting
from gridmap.analysis.network import AnalysisInputError, StreetGraph, build_graph, nearest_facility, snap

CRS = "EPSG:4550"
X0, Y0 = 500_000.0, 4_600_000.0


def _instance(seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """A random covering instance: 12-25 candidates, 30-60 demand points, some already covered."""
    rng = np.random.default_rng(seed)
    n_c, n_d = int(rng.integers(12, 26)), int(rng.integers(30, 61))
    covers = sp.random(n_c, n_d, density=float(rng.uniform(0.05, 0.2)), random_state=seed,
                       format="csr").astype(bool)
    weights = rng.integers(0, 40, n_d).astype(float)
    done = rng.random(n_d) < 0.2
    return covers, weights, done


def test_greedy_is_close_to_the_exact_optimum_on_random_instances() -> None:
    ratios = []
    for seed in range(24):
        covers, weights, done = _instance(seed)
        k = 1 + seed % 5
        greedy = siting.greedy_mclp(covers, weights, k=k, already_covered=done)
        exact = siting.exact_mclp(covers, weights, k=k, already_covered=done)
        assert greedy.total <= exact.total + 1e-9
        ratios.append(1.0 if exact.total == 0 else greedy.total / exact.total)
    print(f"greedy/exact over {len(ratios)} instances: worst {min(ratios):.4f}, "
          f"mean {np.mean(ratios):.4f}, ratios {[round(r, 3) for r in ratios]}")
    assert min(ratios) >= 1 - 1 / math.e


def test_gains_are_non_increasing_and_sum_to_the_newly_covered_weight() -> None:
    for seed in range(10):
        covers, weights, done = _instance(100 + seed)
        result = siting.greedy_mclp(covers, weights, k=6, already_covered=done)
        assert np.all(np.diff(result.gain) <= 1e-9)
        assert np.all(result.gain > 0)
        reached = np.asarray(covers[result.sites].sum(axis=0)).ravel() > 0
        assert np.array_equal(result.covered, reached & ~done)
        assert result.total == pytest.approx(weights[result.covered].sum())
        assert result.cumulative[-1] == pytest.approx(result.total)


def test_greedy_matches_a_plain_greedy_without_lazy_evaluation() -> None:
    for seed in range(10):
        covers, weights, done = _instance(200 + seed)
        lazy = siting.greedy_mclp(covers, weights, k=5, already_covered=done)
        dense = covers.toarray()
        w = np.where(done, 0.0, weights)
        got = np.zeros(dense.shape[1], dtype=bool)
        plain = []
        for _ in range(5):
            gains = (dense & ~got) @ w
            if gains.max() <= 0:
                break
            best = int(np.argmax(gains))  # first maximum: lowest row, as in the heap
            plain.append(best)
            got |= dense[best]
        assert lazy.sites.tolist() == plain


def test_existing_coverage_is_excluded() -> None:
    covers = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 0]], dtype=bool))
    weights = np.array([10.0, 10.0, 5.0, 7.0])
    alone = siting.greedy_mclp(covers, weights, k=1)
    assert alone.sites.tolist() == [0] and alone.total == 20.0
    kept = siting.greedy_mclp(covers, weights, k=1, already_covered=[True, True, False, False])
    assert kept.sites.tolist() == [1] and kept.total == 5.0
    assert kept.covered.tolist() == [False, False, True, False]


def test_k_larger_than_candidates_and_empty_candidates() -> None:
    covers = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=bool))
    weights = np.array([1.0, 2.0, 4.0])
    result = siting.greedy_mclp(covers, weights, k=10)
    assert result.sites.tolist() == [1] and result.total == 3.0  # sites adding nothing are left out
    assert siting.exact_mclp(covers, weights, k=10).total == 3.0
    empty = siting.greedy_mclp(sp.csr_matrix((0, 3), dtype=bool), weights, k=3)
    assert empty.sites.size == 0 and empty.total == 0.0 and not empty.covered.any()
    assert siting.greedy_mclp(covers, weights, k=0).sites.size == 0


def test_bad_problem_is_one_error_listing_everything() -> None:
    covers = sp.csr_matrix((2, 3), dtype=bool)
    with pytest.raises(AnalysisInputError) as info:
        siting.greedy_mclp(covers, [1.0, -1.0, 0.0], k=-1, already_covered=[True])
    assert len(info.value.problems) == 3


# --- on a street network ---------------------------------------------------------------------------


def _lattice(n: int = 8, step: float = 100.0) -> tuple[StreetGraph, gpd.GeoDataFrame]:
    """An n x n street lattice with ``step`` m blocks, plus its nodes frame."""
    ids = np.arange(n * n)
    xy = np.array([(X0 + (i % n) * step, Y0 + (i // n) * step) for i in ids])
    pairs = [(i, i + 1) for i in ids if i % n < n - 1] + [(i, i + n) for i in ids if i < n * (n - 1)]
    nodes = gpd.GeoDataFrame({"node_id": ids}, geometry=shapely.points(xy), crs=CRS)
    lines = [shapely.LineString([xy[a], xy[b]]) for a, b in pairs]
    edges = gpd.GeoDataFrame({"source": [a for a, _ in pairs], "target": [b for _, b in pairs],
                              "length_m": [step] * len(pairs)}, geometry=lines, crs=CRS)
    return build_graph(nodes, edges, crs=CRS), nodes


def _points(rng: np.random.Generator, n: int, extent: float) -> gpd.GeoSeries:
    xy = rng.uniform(-20, extent + 20, size=(n, 2)) + (X0, Y0)
    return gpd.GeoSeries(shapely.points(xy), crs=CRS)


def test_coverage_matrix_agrees_with_nearest_facility_per_candidate() -> None:
    graph, _ = _lattice()
    rng = np.random.default_rng(7)
    candidates = snap(graph, _points(rng, 30, 700), max_snap_m=30)
    demand = snap(graph, _points(rng, 200, 700), max_snap_m=30)
    covers = siting.coverage_matrix(graph, candidates=candidates, demand=demand, max_distance_m=250,
                                    batch_size=7).toarray()
    for c in range(len(candidates)):
        one = nearest_facility(graph, origins=demand, facilities=candidates.take([c]), max_distance_m=250)
        assert np.array_equal(covers[c], one.covered(250)), c


def test_chosen_sites_cover_exactly_what_they_claim() -> None:
    graph, _ = _lattice()
    rng = np.random.default_rng(11)
    demand_pts = _points(rng, 300, 700)
    demand = snap(graph, demand_pts, max_snap_m=30)
    weights = rng.integers(0, 10, len(demand)).astype(float)
    existing_pts = _points(rng, 2, 700)
    existing = snap(graph, existing_pts, max_snap_m=30)
    before = nearest_facility(graph, origins=demand, facilities=existing, max_distance_m=200).covered(200)
    nodes = siting.candidate_nodes(graph, demand=demand.take(~before), max_distance_m=200,
                                   max_candidates=20)
    assert 0 < nodes.size <= 20
    cand_pts = gpd.GeoSeries(shapely.points(graph.xy[nodes]), crs=CRS)
    candidates = snap(graph, cand_pts, max_snap_m=30)
    covers = siting.coverage_matrix(graph, candidates=candidates, demand=demand, max_distance_m=200)
    chosen = siting.greedy_mclp(covers, weights, k=4, already_covered=before)
    both = snap(graph, gpd.GeoSeries([*existing_pts, *cand_pts[chosen.sites]], crs=CRS), max_snap_m=30)
    after = nearest_facility(graph, origins=demand, facilities=both, max_distance_m=200).covered(200)
    assert np.array_equal(after & ~before, chosen.covered)
    assert weights[after].sum() - weights[before].sum() == pytest.approx(chosen.total)


def test_candidate_nodes_reach_demand_and_empty_demand_gives_none() -> None:
    graph, _ = _lattice()
    corner = snap(graph, gpd.GeoSeries([shapely.Point(X0 + 5, Y0)], crs=CRS))
    nodes = siting.candidate_nodes(graph, demand=corner, max_distance_m=150)
    assert set(nodes.tolist()) == {0, 1, 8}  # (0,0) at 5 m, (1,0) at 95 m, (0,1) at 105 m
    nobody = corner.take(np.zeros(0, dtype=np.int64))
    assert siting.candidate_nodes(graph, demand=nobody, max_distance_m=150).size == 0
    empty = siting.coverage_matrix(graph, candidates=nobody, demand=corner, max_distance_m=1)
    assert empty.shape == (0, 1)
    with pytest.raises(AnalysisInputError):
        siting.candidate_nodes(graph, demand=corner, max_distance_m=math.inf)
