"""Walking-distance core: known answers, agreement with networkx, snapping, edge cases, validation.

Networks are built in code in EPSG:4550 (metres) around a Shenyang-like origin so hand-computed
distances are exact; one test feeds WGS84 to check the reprojection path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from scipy.spatial import Delaunay

from gridmap.analysis.network import (
    AnalysisInputError,
    Coverage,
    Snapped,
    StreetGraph,
    build_graph,
    catchment_edges,
    nearest_facility,
    snap,
)

CRS = "EPSG:4550"
X0, Y0 = 500_000.0, 4_600_000.0  # local origin; every coordinate below is relative to it

Coords = Mapping[int, tuple[float, float]]


def _frames(
    coords: Coords,
    edges: Sequence[tuple[int, int]],
    *,
    lengths: Sequence[float] | None = None,
    shapes: Mapping[int, Sequence[tuple[float, float]]] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Node and edge frames; edge i is straight unless ``shapes[i]`` gives its vertices."""
    ids = list(coords)
    points = [shapely.Point(X0 + coords[i][0], Y0 + coords[i][1]) for i in ids]
    nodes = gpd.GeoDataFrame({"node_id": ids}, geometry=points, crs=CRS)
    lines = []
    for k, (s, t) in enumerate(edges):
        pts = (shapes or {}).get(k, [coords[s], coords[t]])
        lines.append(shapely.LineString([(X0 + x, Y0 + y) for x, y in pts]))
    length = list(lengths) if lengths is not None else [line.length for line in lines]
    columns = {"source": [s for s, _ in edges], "target": [t for _, t in edges], "length_m": length}
    frame = gpd.GeoDataFrame(columns, geometry=lines, crs=CRS)
    return nodes, frame


def _graph(coords: Coords, edges: Sequence[tuple[int, int]], **kw: object) -> StreetGraph:
    nodes, frame = _frames(coords, edges, **kw)  # type: ignore[arg-type]
    return build_graph(nodes, frame, crs=CRS)


def _points(xy: Sequence[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def _lattice(
    size: int = 3, spacing: float = 100.0
) -> tuple[dict[int, tuple[float, float]], list[tuple[int, int]]]:
    coords = {i * size + j: (j * spacing, i * spacing) for i in range(size) for j in range(size)}
    edges = [(i * size + j, i * size + j + 1) for i in range(size) for j in range(size - 1)]
    edges += [(i * size + j, (i + 1) * size + j) for i in range(size - 1) for j in range(size)]
    return coords, edges


XY = Sequence[tuple[float, float]]


def _coverage(
    graph: StreetGraph, origins: XY, facilities: XY, **kw: float
) -> tuple[Snapped, Snapped, Coverage]:
    o, f = snap(graph, _points(origins)), snap(graph, _points(facilities))
    return o, f, nearest_facility(graph, origins=o, facilities=f, **kw)


# --- known answers --------------------------------------------------------------------------------


def test_lattice_distances_by_hand() -> None:
    graph = _graph(*_lattice())
    # Facility 10 m below the middle of the bottom-left edge: 50 m to either end node, plus 10 m.
    nodes = [(x, y) for y in (0, 100, 200) for x in (0, 100, 200)]
    _, _, cov = _coverage(graph, nodes, [(50, -10)])
    expected = [60, 60, 160, 160, 160, 260, 260, 260, 360]
    np.testing.assert_allclose(cov.distance_m, expected, atol=1e-9)
    assert (cov.facility == 0).all()
    # A building 30 m off the middle of the edge (100,0)-(200,0): 60 + 50 + 30.
    cov = nearest_facility(graph, origins=snap(graph, _points([(150, -30)])),
                           facilities=snap(graph, _points([(50, -10)])))
    assert cov.distance_m[0] == pytest.approx(140.0, abs=1e-9)


def test_irregular_graph_by_hand() -> None:
    # A(0,0) B(300,0) C(300,400) D(0,400) E(600,0); diagonal A-C is 500 m.
    coords = {1: (0, 0), 2: (300, 0), 3: (300, 400), 4: (0, 400), 5: (600, 0)}
    graph = _graph(coords, [(1, 2), (2, 3), (1, 3), (3, 4), (4, 1), (2, 5)])
    # Facility at E: E 0, B 300, A 600, C 700, D min(600+400, 700+300) = 1000.
    origins = [(0, 0), (300, 400), (0, 400), (0, 200), (150, 200), (450, 20)]
    _, _, cov = _coverage(graph, origins, [(600, 0)])
    expected = [600, 700, 1000, 800, 850, 170]  # mid D-A: 600+200; mid A-C: 600+250; 150 along B-E + 20
    np.testing.assert_allclose(cov.distance_m, expected, atol=1e-6)
    # A second facility 5 m beside D takes over D's neighbourhood.
    _, _, cov = _coverage(graph, origins, [(600, 0), (-5, 400)])
    np.testing.assert_allclose(cov.distance_m, [405, 305, 5, 205, 555, 170], atol=1e-6)
    assert cov.facility.tolist() == [1, 1, 1, 1, 1, 0]


def test_along_uses_length_m_not_drawn_length() -> None:
    # The drawn line is 300 m but the walk is 600 m (e.g. a footpath with stairs).
    graph = _graph({1: (0, 0), 2: (300, 0)}, [(1, 2)], lengths=[600.0])
    s = snap(graph, _points([(150, 10)]))
    assert s.along_m[0] == pytest.approx(300.0)
    _, _, cov = _coverage(graph, [(300, 0)], [(0, 0)])
    assert cov.distance_m[0] == pytest.approx(600.0)


# --- agreement with networkx ------------------------------------------------------------------------


def _random_network(
    rng: np.random.Generator, n: int, drop: float
) -> tuple[Coords, list[tuple[int, int]], list[float]]:
    xy = rng.uniform(0, 2000, size=(n, 2))
    tri = Delaunay(xy)
    pairs = {tuple(sorted((int(a), int(b)))) for simplex in tri.simplices for a, b in
             ((simplex[0], simplex[1]), (simplex[1], simplex[2]), (simplex[0], simplex[2]))}
    edges = [p for p in sorted(pairs) if rng.random() > drop]
    coords = {i: (float(xy[i, 0]), float(xy[i, 1])) for i in range(n)}
    lengths = [math.dist(coords[a], coords[b]) * rng.uniform(1.0, 1.4) for a, b in edges]
    return coords, [(a, b) for a, b in edges], lengths


def _reference(graph: StreetGraph, origins: Snapped, facilities: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Distances by networkx on the graph with every snap point spliced into its edge."""
    g = nx.Graph()
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for kind, snapped in (("o", origins), ("f", facilities)):
        for i in np.flatnonzero(snapped.valid):
            e = int(snapped.edge[i])
            on_edge.setdefault(e, []).append((float(snapped.along_m[i]), (kind, "at", int(i))))
            g.add_edge((kind, int(i)), (kind, "at", int(i)), weight=float(snapped.offset_m[i]))
    for e in range(graph.n_edges):
        u, v, length = int(graph.edge_source[e]), int(graph.edge_target[e]), float(graph.edge_length_m[e])
        chain = [(0.0, u), *sorted(on_edge.get(e, []), key=lambda p: p[0]), (length, v)]
        for (a0, n0), (a1, n1) in zip(chain, chain[1:], strict=False):
            w = a1 - a0
            if not g.has_edge(n0, n1) or g[n0][n1]["weight"] > w:
                g.add_edge(n0, n1, weight=w)
    fac = [("f", int(i)) for i in np.flatnonzero(facilities.valid)]
    per_fac = np.full((len(origins), len(facilities)), np.inf)
    for f in fac:
        lengths = nx.single_source_dijkstra_path_length(g, f)
        for i in np.flatnonzero(origins.valid):
            per_fac[i, f[1]] = lengths.get(("o", int(i)), np.inf)
    best = np.full(len(origins), np.inf)
    if fac:
        ms = nx.multi_source_dijkstra_path_length(g, set(fac))
        best = np.array([ms.get(("o", i), np.inf) for i in range(len(origins))])
    return best, per_fac


@pytest.mark.parametrize(("seed", "drop", "limit"), [(1, 0.0, None), (2, 0.35, None), (3, 0.5, 600.0),
                                                     (4, 0.2, 900.0)])
def test_agrees_with_networkx(seed: int, drop: float, limit: float | None) -> None:
    rng = np.random.default_rng(seed)
    coords, edges, lengths = _random_network(rng, 60, drop)
    graph = _graph(coords, edges, lengths=lengths)
    origins = snap(graph, _points([tuple(p) for p in rng.uniform(-50, 2050, size=(300, 2))]), max_snap_m=60)
    fac_xy = [tuple(p) for p in rng.uniform(0, 2000, size=(6, 2))]
    facilities = snap(graph, _points(fac_xy), max_snap_m=60)
    # Put two origins on each facility's edge to exercise the shared-edge walk.
    k = int(facilities.valid.sum())
    extra = Snapped(edge=np.repeat(facilities.edge[facilities.valid], 2),
                    along_m=np.repeat(facilities.along_m[facilities.valid], 2) * np.tile([0.5, 1.0], k),
                    offset_m=np.tile([3.0, 0.0], k), valid=np.ones(2 * k, bool))
    origins = Snapped(*(np.concatenate([getattr(origins, name), getattr(extra, name)])
                        for name in ("edge", "along_m", "offset_m", "valid")))
    cov = nearest_facility(graph, origins=origins, facilities=facilities, max_distance_m=limit)
    best, per_fac = _reference(graph, origins, facilities)
    if limit is not None:
        best[best > limit] = np.inf
    assert (~origins.valid).any() and np.isinf(best).any() and np.isfinite(best).sum() > 20
    np.testing.assert_allclose(cov.distance_m, best, atol=1e-6, rtol=0)
    ordered = np.sort(per_fac, axis=1)
    unique = np.isfinite(best) & (ordered[:, 1] > ordered[:, 0] + 1e-6)
    assert (cov.facility[unique] == np.argmin(per_fac, axis=1)[unique]).all()
    assert (cov.facility[np.isinf(best)] == -1).all()


# --- snapping ---------------------------------------------------------------------------------------


def test_snap_beside_an_edge_midway() -> None:
    graph = _graph({1: (0, 0), 2: (200, 0)}, [(1, 2)])
    s = snap(graph, _points([(100, 35), (100, 600), (100, -500)]), max_snap_m=500)
    assert s.edge.tolist() == [0, -1, 0]
    assert s.valid.tolist() == [True, False, True]  # exactly 500 m away still snaps (<=)
    assert s.along_m[0] == pytest.approx(100.0) and s.offset_m[0] == pytest.approx(35.0)
    assert s.offset_m[2] == pytest.approx(500.0)
    assert math.isnan(s.along_m[1])


@pytest.mark.parametrize("max_snap_m", [0.0, 10.0, 80.0, math.inf])
def test_snap_matches_brute_force(max_snap_m: float) -> None:
    rng = np.random.default_rng(11)
    coords, edges, lengths = _random_network(rng, 40, 0.3)
    graph = _graph(coords, edges, lengths=lengths)
    xy = rng.uniform(-100, 2100, size=(400, 2))
    xy[:20] = [coords[int(graph.node_ids[i])] for i in rng.integers(0, graph.n_nodes, 20)]  # on the street
    s = snap(graph, _points([(float(x), float(y)) for x, y in xy]), max_snap_m=max_snap_m)
    pts = shapely.points(xy + [X0, Y0])
    dist = shapely.distance(pts[:, None], graph.edge_geometry[None, :])
    best = dist.min(axis=1)
    assert (s.valid == (best <= max_snap_m)).all() and s.valid[:20].all()
    np.testing.assert_allclose(s.offset_m[s.valid], best[s.valid], atol=1e-9)
    assert (dist[np.flatnonzero(s.valid), s.edge[s.valid]] <= best[s.valid] + 1e-9).all()


def test_snap_measures_from_the_source_even_if_drawn_backwards() -> None:
    # Edge 1 -> 2 drawn from node 2's end: along must still count from node 1.
    graph = _graph({1: (200, 0), 2: (0, 0)}, [(1, 2)], shapes={0: [(0, 0), (200, 0)]})
    s = snap(graph, _points([(50, 10)]))
    assert s.along_m[0] == pytest.approx(150.0)


def test_snap_missing_points_are_invalid_not_errors() -> None:
    graph = _graph({1: (0, 0), 2: (200, 0)}, [(1, 2)])
    pts = gpd.GeoSeries([None, shapely.Point(), shapely.Point(X0 + 10, Y0 + 1)], crs=CRS)
    assert snap(graph, pts).valid.tolist() == [False, False, True]


def test_wgs84_input_is_reprojected() -> None:
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    nodes, edges = _frames({1: (0, 0), 2: (400, 300)}, [(1, 2)])
    nodes, edges = nodes.to_crs("EPSG:4326"), edges.to_crs("EPSG:4326")
    graph = build_graph(nodes, edges, crs=CRS)
    np.testing.assert_allclose(graph.xy, [[X0, Y0], [X0 + 400, Y0 + 300]], atol=1e-3)
    lon, lat = to_wgs.transform(X0 + 200 - 30, Y0 + 150 + 40)  # 50 m off the middle, perpendicular
    s = snap(graph, gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326"))
    assert s.offset_m[0] == pytest.approx(50.0, abs=1e-3) and s.along_m[0] == pytest.approx(250.0, abs=1e-3)


# --- edge cases -------------------------------------------------------------------------------------


def test_building_exactly_at_the_limit_is_covered() -> None:
    graph = _graph(*_lattice())
    # Facility on node (0,0); building 50 m below the middle of (100,0)-(200,0): 100 + 50 + 50 = 200.
    o, f = snap(graph, _points([(150, -50)])), snap(graph, _points([(0, 0)]))
    at = nearest_facility(graph, origins=o, facilities=f, max_distance_m=200.0)
    assert at.distance_m[0] == 200.0 and at.facility[0] == 0 and at.covered(200.0)[0]
    below = nearest_facility(graph, origins=o, facilities=f, max_distance_m=199.999)
    assert math.isinf(below.distance_m[0]) and below.facility[0] == -1 and not below.covered(200.0)[0]


def test_facility_without_street_access_is_ignored_and_reported() -> None:
    graph = _graph(*_lattice())
    o = snap(graph, _points([(200, 200)]))
    f = snap(graph, _points([(5000, 5000), (0, 0), (210, 210)]), max_snap_m=10)
    cov = nearest_facility(graph, origins=o, facilities=f)
    assert cov.unsnapped_facilities.tolist() == [0, 2]
    assert cov.facility.tolist() == [1] and cov.distance_m[0] == pytest.approx(400.0)


def test_disconnected_component_is_unreachable() -> None:
    coords, edges = _lattice()
    coords.update({100 + k: (x + 5000, y) for k, (x, y) in coords.items()})
    edges = edges + [(100 + a, 100 + b) for a, b in edges]
    graph = _graph(coords, edges)
    _, _, cov = _coverage(graph, [(100, 100), (5100, 100), (-999, -999)], [(0, 0)])
    assert cov.distance_m[0] == pytest.approx(200.0)
    assert np.isinf(cov.distance_m[1:]).all() and cov.facility.tolist() == [0, -1, -1]


def test_empty_facility_set() -> None:
    graph = _graph(*_lattice())
    o = snap(graph, _points([(0, 0), (100, 100)]))
    for facilities in (gpd.GeoSeries([], crs=CRS), _points([(9000, 9000)])):
        cov = nearest_facility(graph, origins=o, facilities=snap(graph, facilities))
        assert np.isinf(cov.distance_m).all() and (cov.facility == -1).all()
    assert len(catchment_edges(graph, snap(graph, gpd.GeoSeries([], crs=CRS)), max_distance_m=500)) == 0


def test_same_edge_walk_beats_going_round() -> None:
    # A 1 km edge between two nodes also joined by a 1 km detour: the straight walk along it wins.
    coords = {1: (0, 0), 2: (1000, 0), 3: (500, 300)}
    graph = _graph(coords, [(1, 2), (1, 3), (3, 2)])
    # f0 at 500 m along, 100 m off; f1 at 300 m along on the street. Origins at 480 and 700 m along.
    _, _, cov = _coverage(graph, [(480, 0), (700, -4)], [(500, 100), (300, 0)])
    assert cov.distance_m.tolist() == pytest.approx([120.0, 304.0])
    assert cov.facility.tolist() == [0, 0]


def test_parallel_edges_duplicates_and_self_loops() -> None:
    coords = {1: (0, 0), 2: (100, 0)}
    loop = [(100, 0), (200, 50), (200, -50), (100, 0)]
    curve = [(0, 0), (50, 80), (100, 0)]
    graph = _graph(coords, [(1, 2), (1, 2), (2, 1), (2, 2)], shapes={1: curve, 3: loop})
    assert graph.n_edges == 3  # the reversed duplicate of the straight edge is dropped
    assert graph.csr.nnz == 2  # routing keeps only the shortest A-B and no loop
    curve_len, loop_len = shapely.LineString(curve).length, shapely.LineString(loop).length
    _, _, cov = _coverage(graph, [(100, 0), (50, 85), (205, 0)], [(0, 0)])
    expected = [100.0, curve_len / 2 + 5, 100 + loop_len / 2 + 5]
    np.testing.assert_allclose(cov.distance_m, expected, atol=1e-6)
    # A facility on the loop reaches node 2 the short way round.
    _, _, cov = _coverage(graph, [(0, 0)], [(200, 40)])
    assert cov.distance_m[0] == pytest.approx(100 + math.hypot(100, 50) + 10)


def test_zero_length_edge_connects() -> None:
    graph = _graph({1: (0, 0), 2: (100, 0), 3: (100, 0), 4: (200, 0)}, [(1, 2), (2, 3), (3, 4)])
    _, _, cov = _coverage(graph, [(200, 0)], [(0, 0)])
    assert cov.distance_m[0] == pytest.approx(200.0)


# --- catchments -------------------------------------------------------------------------------------


def test_catchment_clips_edges() -> None:
    coords = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (1000, 0), 5: (2000, 0)}
    graph = _graph(coords, [(1, 2), (2, 3), (4, 5)], shapes={1: [(100, 0), (100, 100)]})
    f = snap(graph, _points([(0, 0), (1500, 10)]))
    got = catchment_edges(graph, f, max_distance_m=150).sort_values("edge")
    assert got["edge"].tolist() == [0, 1, 2]
    np.testing.assert_allclose(got[["start_m", "end_m"]].to_numpy(), [[0, 100], [0, 50], [360, 640]])
    want = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (100, 50)]),
            shapely.LineString([(1360, 0), (1640, 0)])]
    for geom, w in zip(got.geometry, want, strict=True):
        assert geom.equals_exact(shapely.affinity.translate(w, X0, Y0), tolerance=1e-6)
    assert got.crs == CRS


def test_catchment_cuts_a_bent_edge_and_merges_overlaps() -> None:
    coords = {1: (0, 0), 2: (100, 100), 3: (400, 100)}
    graph = _graph(coords, [(1, 2), (2, 3)], shapes={0: [(0, 0), (100, 0), (100, 100)]})
    f = snap(graph, _points([(0, 0)]))
    got = catchment_edges(graph, f, max_distance_m=150)
    assert len(got) == 1
    assert got.geometry.iloc[0].equals_exact(
        shapely.LineString([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 50)]), tolerance=1e-6)
    # Reached from both ends and from a facility in the middle: one merged piece.
    three = snap(graph, _points([(100, 100), (400, 100), (250, 105)]))
    both = catchment_edges(graph, three, max_distance_m=120)
    edge1 = both[both["edge"] == 1]
    assert len(edge1) == 1 and edge1["start_m"].iloc[0] == 0 and edge1["end_m"].iloc[0] == pytest.approx(300)


def test_catchment_matches_point_distances() -> None:
    rng = np.random.default_rng(7)
    coords, edges, lengths = _random_network(rng, 50, 0.2)
    graph = _graph(coords, edges, lengths=lengths)
    f = snap(graph, _points([tuple(p) for p in rng.uniform(0, 2000, size=(4, 2))]))
    limit = 500.0
    pieces = catchment_edges(graph, f, max_distance_m=limit)
    # Probe points on every edge; a probe is reached iff a piece of its edge contains it.
    frac = np.linspace(0, 1, 41)
    edge = np.repeat(np.arange(graph.n_edges), frac.size)
    along = np.tile(frac, graph.n_edges) * graph.edge_length_m[edge]
    probes = Snapped(edge=edge, along_m=along, offset_m=np.zeros(edge.size), valid=np.ones(edge.size, bool))
    d = nearest_facility(graph, origins=probes, facilities=f).distance_m
    inside = np.zeros(edge.size, bool)
    for e, lo, hi in pieces[["edge", "start_m", "end_m"]].itertuples(index=False):
        inside |= (edge == e) & (along >= lo - 1e-6) & (along <= hi + 1e-6)
    clear = np.abs(d - limit) > 1e-6
    assert inside.any() and (~inside).any()
    assert (inside[clear] == (d[clear] <= limit)).all()
    np.testing.assert_allclose(shapely.length(pieces.geometry.array),
                               (pieces["end_m"] - pieces["start_m"]) * shapely.length(
                                   graph.edge_geometry[pieces["edge"]]) / graph.edge_length_m[pieces["edge"]],
                               atol=1e-6)


# --- validation -------------------------------------------------------------------------------------


def test_all_validation_problems_in_one_error() -> None:
    nodes, edges = _frames({1: (0, 0), 2: (100, 0)}, [(1, 2), (1, 2)])
    edges.loc[1, "target"] = 7
    nodes = nodes.set_crs(None, allow_override=True)
    edges.loc[0, "length_m"] = -1.0
    with pytest.raises(AnalysisInputError) as err:
        build_graph(nodes, edges, crs="EPSG:4326")
    assert isinstance(err.value, ValueError)
    text = str(err.value)
    assert len(err.value.problems) == 4
    for fragment in ("geographic", "nodes has no CRS", "edges.target", "[7]", "length_m"):
        assert fragment in text


def test_missing_columns_and_wrong_geometry_reported_together() -> None:
    nodes, edges = _frames({1: (0, 0), 2: (100, 0)}, [(1, 2)])
    nodes = nodes.rename(columns={"node_id": "id"})
    edges = edges.drop(columns="length_m").set_crs(None, allow_override=True)
    edges.geometry = [shapely.Point(0, 0)]
    with pytest.raises(AnalysisInputError) as err:
        build_graph(nodes, edges, crs="not a crs")
    text = str(err.value)
    for fragment in ("not a valid CRS", "nodes lacks column(s) ['node_id']",
                     "edges lacks column(s) ['length_m']", "edges has no CRS", "type ['Point']"):
        assert fragment in text


def test_duplicate_node_ids_and_points_without_crs() -> None:
    nodes, edges = _frames({1: (0, 0), 2: (100, 0)}, [(1, 2)])
    nodes.loc[1, "node_id"] = 1
    with pytest.raises(AnalysisInputError, match="duplicate"):
        build_graph(nodes, edges, crs=CRS)
    graph = _graph({1: (0, 0), 2: (100, 0)}, [(1, 2)])
    with pytest.raises(AnalysisInputError, match="points has no CRS") as err:
        snap(graph, gpd.GeoSeries([shapely.Point(0, 0)]), max_snap_m=-1)
    assert "max_snap_m" in str(err.value)
    other = _graph(*_lattice())
    with pytest.raises(AnalysisInputError, match="another graph"):
        nearest_facility(graph, origins=snap(graph, _points([(0, 0)])),
                         facilities=snap(other, _points([(200, 200)])))
