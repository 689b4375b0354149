"""The shared street graph: one import order, one augmentation, and siting equal to network.

Siting and network both build on :mod:`gridmap.analysis.graph`; these tests hold that promise at
the exact bit (limits set to the very distances network measures) and hold the modules to a
one-way import order (the old ``network`` <-> ``snap`` cycle must not come back).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from scipy.spatial import Delaunay

from gridmap.analysis import graph as street_graph
from gridmap.analysis import network, siting
from gridmap.analysis.graph import Snapped, StreetGraph, augmented, build_graph, same_edge_pairs
from gridmap.analysis.snap import snap

CRS = "EPSG:4550"
X0, Y0 = 500_000.0, 4_600_000.0
ANALYSIS = Path(street_graph.__file__).parent


def _imports(path: Path) -> set[str]:
    """Analysis modules ``path`` imports, counting imports made only for type checking."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.rsplit(".", 1)[-1] for n in names if n.startswith("gridmap.analysis.")}
    return found - {path.stem}


def test_analysis_modules_import_each_other_one_way_only() -> None:
    modules = {p.stem for p in ANALYSIS.glob("*.py") if p.stem != "__init__"}
    deps = {m: _imports(ANALYSIS / f"{m}.py") & modules for m in modules}
    done: list[str] = []
    while len(done) < len(modules):  # peel off modules whose imports are all placed already
        ready = sorted(m for m in modules - set(done) if deps[m] <= set(done))
        assert ready, f"import cycle among {sorted(modules - set(done))}: {deps}"
        done += ready
    assert done.index("graph") < done.index("snap") < done.index("network")
    assert "network" not in deps["siting"] and "snap" not in deps["graph"]


def _irregular_graph(seed: int) -> StreetGraph:
    """A Delaunay street net with awkward lengths, a self-loop and a zero-length edge."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 900, size=(40, 2)) + (X0, Y0)
    pairs = sorted({tuple(sorted((int(a), int(b)))) for s in Delaunay(xy).simplices
                    for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2]))})
    lines = [shapely.LineString([xy[a], xy[b]]) for a, b in pairs]
    lengths = [line.length * rng.uniform(1.0, 1.3) for line in lines]
    loop = [xy[0], xy[0] + (40.0, 30.0), xy[0] + (-20.0, 50.0), xy[0]]
    pairs += [(0, 0), (1, 40)]
    lines += [shapely.LineString(loop), shapely.LineString([xy[1], xy[1]])]
    lengths += [shapely.LineString(loop).length, 0.0]
    nodes = gpd.GeoDataFrame({"node_id": np.arange(41)},
                             geometry=shapely.points(np.vstack([xy, xy[1]])), crs=CRS)
    edges = gpd.GeoDataFrame({"source": [a for a, _ in pairs], "target": [b for _, b in pairs],
                              "length_m": lengths}, geometry=lines, crs=CRS)
    return build_graph(nodes, edges, crs=CRS)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_siting_covers_exactly_what_network_measures_at_the_limit(seed: int) -> None:
    graph = _irregular_graph(seed)
    rng = np.random.default_rng(100 + seed)
    points = gpd.GeoSeries(shapely.points(rng.uniform(-30, 930, size=(160, 2)) + (X0, Y0)), crs=CRS)
    candidates, demand = snap(graph, points[:25], max_snap_m=40), snap(graph, points[25:], max_snap_m=40)
    # Demand on the candidates' own edges exercises the straight walk along a shared edge.
    both = np.flatnonzero(candidates.valid)[:5]
    demand = Snapped(*(np.concatenate([getattr(demand, k), getattr(candidates, k)[both]])
                       for k in ("edge", "along_m", "offset_m", "valid")))
    checked = 0
    for c in np.flatnonzero(candidates.valid):
        walk = network.nearest_facility(graph, origins=demand,
                                        facilities=candidates.take([c])).distance_m
        for j in np.flatnonzero(np.isfinite(walk))[::9]:
            limit = float(walk[j])  # the exact float network measured: any other sum would miss it
            covers = siting.coverage_matrix(graph, candidates=candidates, demand=demand,
                                            max_distance_m=limit).toarray()
            assert covers[c, j], (c, j, limit)
            assert np.array_equal(covers[c], walk <= limit), (c, j)
            checked += 1
    assert checked > 40


def test_augmented_adds_one_source_per_valid_point_with_arcs_out_only() -> None:
    nodes = gpd.GeoDataFrame({"node_id": [1, 2]}, geometry=shapely.points([(X0, Y0), (X0 + 100, Y0)]),
                             crs=CRS)
    edges = gpd.GeoDataFrame({"source": [1], "target": [2], "length_m": [120.0]},
                             geometry=[shapely.LineString([(X0, Y0), (X0 + 100, Y0)])], crs=CRS)
    graph = build_graph(nodes, edges, crs=CRS)
    points = Snapped(edge=np.array([0, -1, 0]), along_m=np.array([30.0, np.nan, 120.0]),
                     offset_m=np.array([5.0, np.nan, 0.0]), valid=np.array([True, False, True]))
    matrix, rows = augmented(graph, points)
    assert rows.tolist() == [0, 2] and matrix.shape == (4, 4)
    dense = sp.csr_matrix(matrix).toarray()
    assert dense[2, :2].tolist() == [35.0, 95.0]  # 5 m off, then 30 m or 90 m along
    assert dense[3, :2].tolist() == [120.0, 0.0] and matrix[3, 1] == 0.0  # explicit zero: at node 2
    assert not dense[:, 2:].any()  # nothing walks into a source


def test_same_edge_pairs_lists_every_pair_with_the_source_offset() -> None:
    sources = Snapped(edge=np.array([4, 2, 4]), along_m=np.array([10.0, 0.0, 50.0]),
                      offset_m=np.array([1.0, 2.0, 3.0]), valid=np.ones(3, bool))
    targets = Snapped(edge=np.array([4, 7, 2]), along_m=np.array([30.0, 1.0, 5.0]),
                      offset_m=np.array([9.0, 9.0, 9.0]), valid=np.ones(3, bool))
    t_pos, s_row, walk = same_edge_pairs(sources, np.arange(3), targets, np.array([0, 1, 2]))
    assert list(zip(t_pos.tolist(), s_row.tolist(), walk.tolist(), strict=True)) == [
        (0, 0, 21.0), (0, 2, 23.0), (2, 1, 7.0)]


def test_finite_limit_is_required_where_a_search_must_stop() -> None:
    graph = _irregular_graph(1)
    none = snap(graph, gpd.GeoSeries([], crs=CRS))
    with pytest.raises(network.AnalysisInputError, match="finite"):
        network.catchment_edges(graph, none, max_distance_m=math.inf)
    with pytest.raises(network.AnalysisInputError, match="finite"):
        siting.coverage_matrix(graph, candidates=none, demand=none, max_distance_m=math.nan)
    assert network.nearest_facility(graph, origins=none, facilities=none).max_distance_m == math.inf
