"""Coverage compute at city scale, and its shortest-path step beside pandana and networkx.

Usage (after `make setup`):  .venv/bin/python bench/coverage_bench.py [--repeats 3]
Needs the bench extra (`pip install -e '.[bench]'`: pandana, networkx). Uses the city-scale
benchmark database (see locate_bench.py).

1. Times ``gridmap.coverage.services.compute.compute(factory, "elder_care_station", "15min")`` end to
   end with its per-step times, inside a transaction that is rolled back (no run is left behind).
2. On the same graph and the same snapped points, times our shortest-path step
   (``network.nearest_facility``) beside pandana (network build + set_pois + nearest_pois) and
   networkx (graph build + multi_source_dijkstra_path_length). pandana maps POIs and origins to
   the nearest graph node, not onto edges, so the three are compared on that node-to-node problem:
   every facility and building stands at its nearest graph node (buildings keep their straight
   offset to that node, added alike to all three; facilities get none, as pandana has no per-POI
   offset), searched up to the compute's own limit (1.5 x the circle). Answers are compared per
   building where both are within the limit; disagreements are differences over 1 m.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from gridmap.analysis import network  # noqa: E402
from gridmap.config import Settings  # noqa: E402
from gridmap.coverage.repositories import compute as repo  # noqa: E402
from gridmap.coverage.services import compute as coverage  # noqa: E402

TYPE, CIRCLE = "elder_care_station", "15min"
TOLERANCE_M = 1.0
Floats = npt.NDArray[np.float64]


def timed(fn: Callable[[], Any], repeats: int = 1) -> tuple[Any, float]:
    """Run ``fn`` ``repeats`` times; return the last result and the median wall time (s)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def compute_runs(engine: Any, repeats: int) -> list[tuple[float, coverage.RunReport]]:
    """The real compute, each run in its own transaction, rolled back."""
    runs = []
    for _ in range(repeats):
        with engine.connect() as conn:
            outer = conn.begin()  # the compute's commit becomes a savepoint of this transaction
            factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
            t0 = time.perf_counter()
            report = coverage.compute(factory, TYPE, CIRCLE)
            runs.append((time.perf_counter() - t0, report))
            outer.rollback()
    return runs


def node_snapped(graph: network.StreetGraph, xy: Floats, *, keep_offset: bool) -> tuple[Any, Any, Floats]:
    """Put points at their nearest graph node (nodes with an edge only).

    Returns the node per point, a ``Snapped`` at that node (on one of its edges, at that end) and
    the straight offset to the node (in the Snapped only if ``keep_offset``)."""
    n_edges = graph.n_edges
    edge_at = np.full(graph.n_nodes, -1, dtype=np.int64)
    along_at = np.zeros(graph.n_nodes)
    edge_at[graph.edge_target] = np.arange(n_edges)
    along_at[graph.edge_target] = graph.edge_length_m
    edge_at[graph.edge_source] = np.arange(n_edges)  # a node that is some edge's source: along 0
    along_at[graph.edge_source] = 0.0
    candidates = np.flatnonzero(edge_at >= 0)
    offset, pos = cKDTree(graph.xy[candidates]).query(xy)
    node = candidates[pos]
    snapped = network.Snapped(edge=edge_at[node], along_m=along_at[node],
                              offset_m=offset if keep_offset else np.zeros(len(node)),
                              valid=np.ones(len(node), dtype=bool))
    return node, snapped, offset


def compare(ours: Floats, other: Floats, limit: float) -> dict[str, float]:
    """Agreement of two per-building distance arrays (inf = not reached within ``limit``)."""
    ours_in, other_in = ours <= limit, other <= limit
    both = ours_in & other_in
    diff = np.abs(ours[both] - other[both])
    # Reached by one only: a disagreement unless the reached one is within 1 m of the limit.
    one = ours_in ^ other_in
    edge_case = one & (np.minimum(ours, other) > limit - TOLERANCE_M)
    return {"both": int(both.sum()), "disagree": int((diff > TOLERANCE_M).sum()),
            "max_diff": float(diff.max()) if diff.size else 0.0,
            "one_only": int(one.sum() - edge_case.sum()), "one_only_at_limit": int(edge_case.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="compute runs, and repeats of the fast query steps (median)")
    args = parser.parse_args()
    url = ensure_bench_db(Settings.from_env().database_url, "city")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    # 1. The real compute, end to end.
    runs = compute_runs(engine, args.repeats)

    # 2. The same graph and snapped points, outside the compute.
    with Session(engine) as session:
        limit = float(repo.rule(session, TYPE, CIRCLE)["max_distance_m"]) * coverage.NEAR_MISS_FACTOR
        nodes, edges = repo.street_nodes(session), repo.street_edges(session)
        buildings, facilities = repo.buildings(session), repo.facilities(session, TYPE)
        metric_crs = coverage.metric_crs(session)
    engine.dispose()
    graph = network.build_graph(nodes, edges, crs=metric_crs)
    origins = network.snap(graph, buildings, max_snap_m=coverage.MAX_SNAP_M)
    sources = network.snap(graph, facilities, max_snap_m=coverage.MAX_SNAP_M)
    rows: list[tuple[str, float]] = []
    _, t = timed(lambda: network.nearest_facility(graph, origins=origins, facilities=sources,
                                                  max_distance_m=limit), args.repeats)
    rows.append(("ours: nearest_facility, edge-snapped (the compute's step)", t))

    # The node-to-node problem: the buildings and facilities the compute snapped, at their nearest node.
    b_xy = np.asarray(buildings.to_crs(graph.crs).geometry.get_coordinates())[origins.valid]
    f_xy = np.asarray(facilities.to_crs(graph.crs).geometry.get_coordinates())[sources.valid]
    b_node, b_snap, b_off = node_snapped(graph, b_xy, keep_offset=True)
    f_node, f_snap, _ = node_snapped(graph, f_xy, keep_offset=False)
    result, t_ours = timed(lambda: network.nearest_facility(graph, origins=b_snap, facilities=f_snap,
                                                            max_distance_m=limit), args.repeats)
    ours = result.distance_m
    rows.append(("ours: nearest_facility, node-snapped", t_ours))

    coo = graph.csr.tocoo()
    upper = coo.row < coo.col
    e_from, e_to, e_w = coo.row[upper], coo.col[upper], coo.data[upper]
    answers: dict[str, Floats] = {}
    notes: list[str] = []

    try:
        import pandana
        import pandas as pd
    except Exception as exc:  # reported, the networkx comparison still runs
        notes.append(f"pandana could not be imported: {type(exc).__name__}: {exc}")
    else:
        index = pd.RangeIndex(graph.n_nodes)
        net, t_build = timed(lambda: pandana.Network(
            pd.Series(graph.xy[:, 0], index=index), pd.Series(graph.xy[:, 1], index=index),
            pd.Series(e_from), pd.Series(e_to), pd.DataFrame({"length": e_w}), twoway=True))
        rows.append(("pandana: Network build (contraction hierarchy)", t_build))
        _, t_pois = timed(lambda: net.set_pois("fac", maxdist=limit, maxitems=1,
                                               x_col=pd.Series(graph.xy[f_node, 0]),
                                               y_col=pd.Series(graph.xy[f_node, 1])))
        mapped = net.get_node_ids(pd.Series(graph.xy[f_node, 0]), pd.Series(graph.xy[f_node, 1]))
        if (mapped.to_numpy() != f_node).any():
            notes.append(f"pandana mapped {int((mapped.to_numpy() != f_node).sum())} facilities to "
                         "another node at the same position")
        rows.append(("pandana: set_pois", t_pois))
        df, t_near = timed(lambda: net.nearest_pois(distance=limit, category="fac", num_pois=1,
                                                    include_poi_ids=True), args.repeats)
        rows.append(("pandana: nearest_pois", t_near))
        rows.append(("pandana: total (build + set_pois + nearest_pois)", t_build + t_pois + t_near))
        node_d = df[1].to_numpy(dtype=np.float64, copy=True)
        node_d[node_d >= limit] = np.inf  # pandana fills "none within distance" with the distance
        answers["pandana"] = node_d[b_node] + b_off

    import networkx as nx

    def nx_graph() -> Any:
        g = nx.Graph()
        g.add_nodes_from(range(graph.n_nodes))
        g.add_weighted_edges_from(zip(e_from.tolist(), e_to.tolist(), e_w.tolist(), strict=True))
        return g

    g, t_gbuild = timed(nx_graph)
    rows.append(("networkx: Graph build", t_gbuild))
    reach, t_nx = timed(lambda: nx.multi_source_dijkstra_path_length(
        g, set(f_node.tolist()), cutoff=limit, weight="weight"))
    rows.append(("networkx: multi_source_dijkstra_path_length", t_nx))
    rows.append(("networkx: total (build + search)", t_gbuild + t_nx))
    node_d = np.full(graph.n_nodes, np.inf)
    node_d[np.fromiter(reach.keys(), dtype=np.int64)] = np.fromiter(reach.values(), dtype=np.float64)
    answers["networkx"] = node_d[b_node] + b_off

    # Report.
    print(f"city scale: {len(buildings):,} buildings ({int(origins.valid.sum()):,} snapped), "
          f"{len(edges):,} street edges ({graph.n_nodes:,} nodes, {len(e_w):,} routing edges), "
          f"{len(facilities):,} {TYPE} ({int(sources.valid.sum()):,} snapped); circle {CIRCLE}, "
          f"search limit {limit:.0f} m")
    print(f"\ncompute end to end, {args.repeats} runs, each rolled back:")
    names = list(runs[0][1].seconds)
    print("| run | " + " | ".join(names) + " | sum of steps | wall (incl. rule, totals) |")
    print("|---|" + "---:|" * (len(names) + 2))
    for i, (wall, report) in enumerate(runs, 1):
        s = report.seconds
        print(f"| {i} | " + " | ".join(f"{s[n]:.2f}" for n in names)
              + f" | {sum(s.values()):.2f} | {wall:.2f} |")
    print(f"buildings covered {runs[-1][1].buildings_covered:,}; residents {runs[-1][1].residents_rate:.1%}, "
          f"elderly {runs[-1][1].elderly_rate:.1%}")
    print(f"\nshortest-path step side by side (query rows: median of {args.repeats}):")
    print("| step | seconds | ratio to ours (node-snapped) |")
    print("|---|---:|---:|")
    for name, sec in rows:
        print(f"| {name} | {sec:.3f} | {sec / t_ours:.1f} |")
    print(f"\nagreement with ours on the node-snapped problem ({len(ours):,} buildings, "
          f"{len(f_node):,} facilities at {len(np.unique(f_node)):,} nodes, within 1 m):")
    for name, theirs in answers.items():
        c = compare(ours, theirs, limit)
        print(f"- {name}: both reached {c['both']:,}; disagreements {c['disagree']} "
              f"(max abs difference {c['max_diff']:.4f} m); reached by one only {c['one_only']} "
              f"(+{c['one_only_at_limit']} within 1 m of the limit)")
    for note in notes:
        print(f"- note: {note}")


if __name__ == "__main__":
    main()
