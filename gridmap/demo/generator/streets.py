"""Synthetic street network: a jittered, slightly rotated lattice with named arterials.

Block spacing is drawn per line (150–250 m), nodes are jittered, a few diagonal arterials cut
across, and ~6% of local edges are dropped, but only edges outside a random spanning tree, so the
network stays connected. Separate settlement patches are joined by straight connector roads.
All coordinates are metres in the metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.demo.generator.names import HIGHWAY_SUFFIX, ROAD_PREFIXES, road_names

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

SPACING_M = (150.0, 250.0)
JITTER_M = 20.0
DROP_SHARE = 0.06
MIN_COMPONENT_NODES = 4


@dataclass
class StreetNet:
    """Nodes and edges of one district's network (edge ends index into node arrays)."""

    node_xy: Floats
    src: Ints
    dst: Ints
    kind: list[str]
    name: list[str]

    def lines(self) -> npt.NDArray[np.object_]:
        """Edge geometries as straight LineStrings from source to target."""
        coords = np.stack([self.node_xy[self.src], self.node_xy[self.dst]], axis=1)
        lines: npt.NDArray[np.object_] = shapely.linestrings(coords)
        return lines


def _lines(start: float, stop: float, rng: np.random.Generator) -> Floats:
    steps = rng.uniform(*SPACING_M, size=int((stop - start) / SPACING_M[0]) + 3)
    pos = start - rng.uniform(0, SPACING_M[1]) + np.concatenate([[0.0], np.cumsum(steps)])
    return pos[: np.searchsorted(pos, stop) + 1]


def build_streets(settled: BaseGeometry, rng: np.random.Generator) -> StreetNet:
    """Build a connected network covering the settled area of one district."""
    theta = rng.uniform(-0.2, 0.2)
    c, s = np.cos(theta), np.sin(theta)
    cx, cy = settled.centroid.x, settled.centroid.y
    ring = shapely.get_coordinates(settled) - (cx, cy)
    uv = ring @ np.array([[c, -s], [s, c]])  # into the lattice frame (rotate by -theta)
    us = _lines(uv[:, 0].min(), uv[:, 0].max(), rng)
    vs = _lines(uv[:, 1].min(), uv[:, 1].max(), rng)
    nu, nv = len(us), len(vs)
    gu, gv = np.meshgrid(us, vs, indexing="ij")
    luv = np.stack([gu.ravel(), gv.ravel()], 1) + rng.uniform(-JITTER_M, JITTER_M, (nu * nv, 2))
    xy = luv @ np.array([[c, s], [-s, c]]) + (cx, cy)
    idx = np.arange(nu * nv).reshape(nu, nv)
    src, dst, kind, line = _lattice_edges(idx, rng)
    inside = shapely.contains_xy(settled, xy[:, 0], xy[:, 1])
    keep = inside[src] & inside[dst]
    src, dst, kind, line = src[keep], dst[keep], kind[keep], line[keep]
    segs = shapely.linestrings(np.stack([xy[src], xy[dst]], 1))
    keep = shapely.covered_by(segs, shapely.buffer(settled, 1.0))
    src, dst, kind, line = src[keep], dst[keep], kind[keep], line[keep]
    src, dst, kind, line = _drop_locals(len(xy), src, dst, kind, line, rng)
    names = road_names(rng, int(line.max()) + 1 if len(line) else 0)
    name = [names[v] if v >= 0 else "" for v in line]
    net = _compact(xy, src, dst, ["arterial" if k else "local" for k in kind], name)
    return _connect(net, rng)


def _lattice_edges(idx: Ints, rng: np.random.Generator) -> tuple[Ints, Ints, Floats, Ints]:
    """Lattice + diagonal edges; kind 1 = arterial; line = arterial line number or -1."""
    nu, nv = idx.shape
    parts: list[tuple[Ints, Ints, bool, Ints]] = []
    art_u = np.arange(rng.integers(0, 5), nu, 1)[:: rng.integers(4, 7)]
    art_v = np.arange(rng.integers(0, 5), nv, 1)[:: rng.integers(4, 7)]
    line_no = 0
    # edges along v (constant u line i), then along u (constant v line j)
    for axis, arts in ((0, art_u), (1, art_v)):
        a = idx if axis == 0 else idx.T
        s, d = a[:, :-1], a[:, 1:]
        lines = np.full(s.shape, -1)
        for i in arts:
            lines[i] = line_no
            line_no += 1
        parts.append((s.ravel(), d.ravel(), False, lines.ravel()))
    # a few diagonal arterials through lattice nodes (planar: they cross blocks corner to corner)
    for _ in range(int(rng.integers(1, 4))):
        flip = bool(rng.integers(0, 2))
        a = idx[:, ::-1] if flip else idx
        off = int(rng.integers(-nv // 4 - 1, nv // 4 + 2)) + (nv - nu) // 2
        diag = np.diagonal(a, offset=off)
        if len(diag) < 2:
            continue
        parts.append((diag[:-1], diag[1:], True, np.full(len(diag) - 1, line_no)))
        line_no += 1
    src = np.concatenate([p[0] for p in parts])
    dst = np.concatenate([p[1] for p in parts])
    line = np.concatenate([p[3] for p in parts])
    kind = (line >= 0).astype(float)
    # A diagonal may reuse no lattice edge, but a lattice edge may lie on two arterials: dedupe.
    key = np.minimum(src, dst) * (idx.size + 1) + np.maximum(src, dst)
    _, first = np.unique(key, return_index=True)
    first.sort()
    return src[first], dst[first], kind[first], line[first]


class _DSU:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        p = self.parent
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[ra] = rb
        return True


def components(n: int, src: Ints, dst: Ints) -> Ints:
    """Connected-component label (a root node index) per node."""
    dsu = _DSU(n)
    for a, b in zip(src.tolist(), dst.tolist(), strict=True):
        dsu.union(a, b)
    return np.array([dsu.find(i) for i in range(n)], dtype=np.int64)


def _drop_locals(n: int, src: Ints, dst: Ints, kind: Floats, line: Ints,
                 rng: np.random.Generator) -> tuple[Ints, Ints, Floats, Ints]:
    """Drop a share of local edges that lie outside a random spanning forest."""
    dsu = _DSU(n)
    order = np.lexsort((rng.random(len(src)), -kind))  # arterials first, then random
    in_tree = np.zeros(len(src), dtype=bool)
    for e in order.tolist():
        in_tree[e] = dsu.union(int(src[e]), int(dst[e]))
    cand = np.flatnonzero(~in_tree & (kind == 0))
    n_drop = min(len(cand), int(round(DROP_SHARE * int((kind == 0).sum()))))
    drop = np.zeros(len(src), dtype=bool)
    drop[rng.choice(cand, size=n_drop, replace=False)] = True
    return src[~drop], dst[~drop], kind[~drop], line[~drop]


def _compact(xy: Floats, src: Ints, dst: Ints, kind: list[str], name: list[str]) -> StreetNet:
    """Drop unused nodes and components too small to matter; renumber."""
    used = np.unique(np.concatenate([src, dst]))
    remap = np.full(len(xy), -1)
    remap[used] = np.arange(len(used))
    src, dst = remap[src], remap[dst]
    lab = components(len(used), src, dst)
    _, inv, cnt = np.unique(lab, return_inverse=True, return_counts=True)
    big = cnt[inv] >= MIN_COMPONENT_NODES
    if big.any():
        keep_e = big[src]
        remap2 = np.full(len(used), -1)
        remap2[big] = np.arange(int(big.sum()))
        src, dst = remap2[src[keep_e]], remap2[dst[keep_e]]
        kind = [k for k, e in zip(kind, keep_e, strict=True) if e]
        name = [m for m, e in zip(name, keep_e, strict=True) if e]
        used = used[big]
    return StreetNet(xy[used], src.astype(np.int64), dst.astype(np.int64), kind, name)


def _connect(net: StreetNet, rng: np.random.Generator) -> StreetNet:
    """Join separate components with straight connector roads (Prim over components)."""
    if len(net.src) == 0:
        return net
    lab = components(len(net.node_xy), net.src, net.dst)
    roots, cnt = np.unique(lab, return_counts=True)
    if len(roots) == 1:
        return net
    joined = lab == roots[np.argmax(cnt)]
    new_src, new_dst = [], []
    pts = shapely.points(net.node_xy)
    while not joined.all():
        tree = shapely.STRtree(pts[joined])
        out_idx = np.flatnonzero(~joined)
        (i_out, i_in), dist = tree.query_nearest(pts[out_idx], return_distance=True, all_matches=False)
        best = int(np.argmin(dist))
        a, b = int(out_idx[i_out[best]]), int(np.flatnonzero(joined)[i_in[best]])
        new_src.append(a)
        new_dst.append(b)
        joined |= lab == lab[a]
    prefixes = rng.choice(len(ROAD_PREFIXES), size=len(new_src))
    return StreetNet(
        net.node_xy,
        np.concatenate([net.src, np.array(new_src, dtype=np.int64)]),
        np.concatenate([net.dst, np.array(new_dst, dtype=np.int64)]),
        net.kind + ["arterial"] * len(new_src),
        net.name + [ROAD_PREFIXES[p] + HIGHWAY_SUFFIX for p in prefixes],
    )


LINK_RADIUS_M = 250.0


def link_networks(node_xy: Floats, group: Ints, src: Ints, dst: Ints, buildings: npt.NDArray[
        np.object_], rng: np.random.Generator) -> tuple[Ints, Ints, list[str], list[str]]:
    """Edges joining separately built networks (one per district) into one, clear of buildings.

    Mutually nearest node pairs of different groups within LINK_RADIUS_M become local links;
    whatever is still apart is joined by the shortest building-free straight road to the main
    component. Returns (source index, target index, kind, name) of the new edges.
    """
    pts = shapely.points(node_xy)
    b_tree = shapely.STRtree(buildings)
    i, j = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=LINK_RADIUS_M)
    other = group[i] != group[j]
    i, j = i[other], j[other]
    d = np.hypot(*(node_xy[i] - node_xy[j]).T)
    order = np.lexsort((j, d, i))
    i, j = i[order], j[order]
    first = np.unique(i, return_index=True)[1]
    best = dict(zip(i[first].tolist(), j[first].tolist(), strict=True))
    pairs = sorted((a, b) for a, b in best.items() if a < b and best.get(b) == a)
    new = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    new = new[_clear(node_xy, new, b_tree)]
    kinds, names = ["local"] * len(new), [""] * len(new)
    s_all = np.concatenate([src, new[:, 0]])
    d_all = np.concatenate([dst, new[:, 1]])
    extra = _join_components(node_xy, s_all, d_all, b_tree)
    prefixes = rng.choice(len(ROAD_PREFIXES), size=len(extra))
    kinds += ["arterial"] * len(extra)
    names += [ROAD_PREFIXES[p] + HIGHWAY_SUFFIX for p in prefixes]
    allnew = np.concatenate([new, np.array(extra, dtype=np.int64).reshape(-1, 2)])
    return allnew[:, 0], allnew[:, 1], kinds, names


def _clear(node_xy: Floats, pairs: Ints, b_tree: shapely.STRtree) -> npt.NDArray[np.bool_]:
    segs = shapely.linestrings(np.stack([node_xy[pairs[:, 0]], node_xy[pairs[:, 1]]], 1))
    hit = b_tree.query(segs, predicate="dwithin", distance=8.0)[0]
    ok = np.ones(len(pairs), dtype=bool)
    ok[hit] = False
    return ok


def _join_components(node_xy: Floats, src: Ints, dst: Ints,
                     b_tree: shapely.STRtree) -> list[tuple[int, int]]:
    lab = components(len(node_xy), src, dst)
    roots, cnt = np.unique(lab, return_counts=True)
    joined = lab == roots[np.argmax(cnt)]
    pts = shapely.points(node_xy)
    out: list[tuple[int, int]] = []
    blocked: set[int] = set()  # components no building-free straight road can reach
    while True:
        out_idx = np.flatnonzero(~joined & ~np.isin(lab, list(blocked)))
        if len(out_idx) == 0:
            return out
        in_idx = np.flatnonzero(joined)
        (i_out, i_in), dist = shapely.STRtree(pts[in_idx]).query_nearest(
            pts[out_idx], return_distance=True, all_matches=False)
        order = np.argsort(dist, kind="stable")[:500]
        cand = np.column_stack([out_idx[i_out[order]], in_idx[i_in[order]]])
        ok = np.flatnonzero(_clear(node_xy, cand, b_tree))
        if len(ok) == 0:
            blocked.add(int(lab[cand[0, 0]]))
            continue
        a, b = (int(v) for v in cand[ok[0]])
        out.append((a, b))
        joined |= lab == lab[a]
