"""Tile a polygon into k connected, comparably sized polygons (balanced Voronoi partition).

Seeds come from a few Lloyd (k-means) iterations on uniform sample points, so cell areas are
comparable; Voronoi cells clipped to the parent share their edges exactly, which is what makes the
children tile the parent with no gaps or overlaps. A clip can cut a cell into pieces: each child
keeps its largest piece and the other pieces go to the neighbour they share the longest border
with, so every child is a single Polygon and the tiling stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

Points = npt.NDArray[np.float64]


def sample_points(geom: BaseGeometry, n: int, rng: np.random.Generator) -> Points:
    """Draw about n uniform points inside geom (rejection sampling on its bounding box)."""
    x0, y0, x1, y1 = geom.bounds
    fill = max(geom.area / max((x1 - x0) * (y1 - y0), 1e-9), 0.02)
    out: list[Points] = []
    have = 0
    shapely.prepare(geom)
    for _ in range(30):
        m = int(n / fill * 1.2) + 16
        xy = rng.uniform((x0, y0), (x1, y1), size=(m, 2))
        xy = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        out.append(xy)
        have += len(xy)
        if have >= n:
            break
    pts = np.concatenate(out)[:n]
    if len(pts) == 0:  # degenerate sliver: fall back to a point known to be inside
        p = geom.representative_point()
        pts = np.array([[p.x, p.y]])
    return pts


def kmeans(pts: Points, k: int, rng: np.random.Generator, *, init: Points | None = None,
           n_iter: int = 15) -> Points:
    """Lloyd iterations; returns k seeds, each snapped to a distinct sample point."""
    cen = pts[rng.choice(len(pts), size=k, replace=False)] if init is None else init.copy()
    for _ in range(n_iter):
        lab = _nearest(pts, cen)
        cnt = np.bincount(lab, minlength=k)
        sums = np.zeros((k, 2))
        np.add.at(sums, lab, pts)
        cen = np.where(cnt[:, None] > 0, sums / np.maximum(cnt, 1)[:, None], cen)
    # Snap to sample points (inside the parent even if it is not convex), without duplicates.
    d = ((pts[None, :, :] - cen[:, None, :]) ** 2).sum(-1)
    taken: set[int] = set()
    seeds = np.empty_like(cen)
    for i in range(k):
        for j in np.argsort(d[i]):
            if int(j) not in taken:
                taken.add(int(j))
                seeds[i] = pts[j]
                break
    return seeds


def _nearest(pts: Points, cen: Points) -> npt.NDArray[np.intp]:
    d = ((pts[:, None, :] - cen[None, :, :]) ** 2).sum(-1)
    return np.asarray(d.argmin(1))


def partition(parent: Polygon, k: int, rng: np.random.Generator, *,
              init: Points | None = None, samples_per_cell: int = 40) -> list[Polygon]:
    """Split parent into k single Polygons that tile it exactly (order follows the seeds)."""
    if k <= 1:
        return [parent]
    pts = sample_points(parent, max(samples_per_cell * k, 300), rng)
    if len(pts) < k:
        raise ValueError(f"cannot split a polygon of {parent.area:.0f} m² into {k} parts")
    seeds = kmeans(pts, k, rng, init=init)
    return voronoi_tiles(parent, seeds)


def voronoi_tiles(parent: Polygon, seeds: Points) -> list[Polygon]:
    """Voronoi cells of seeds clipped to parent, repaired to single Polygons (seed order)."""
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=parent, ordered=True))
    if len(cells) != len(seeds):  # GEOS drops exact duplicate seeds; should not happen
        raise ValueError("duplicate partition seeds")
    shapely.prepare(parent)
    clipped = shapely.intersection(cells, parent)
    mains: list[Polygon] = []
    orphans: list[Polygon] = []
    for geom in clipped:
        parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]
        parts.sort(key=lambda p: -p.area)
        mains.append(parts[0] if parts else Polygon())
        orphans.extend(parts[1:])
    return _absorb(mains, orphans)


def _absorb(mains: list[Polygon], orphans: Sequence[Polygon]) -> list[Polygon]:
    """Merge each orphan piece into the main piece it shares the longest border with."""
    pending = list(orphans)
    for _ in range(10):
        if not pending:
            break
        left = []
        tree = shapely.STRtree(mains)
        for orphan in pending:
            cand = tree.query(orphan, predicate="intersects")
            best, best_len = -1, 0.0
            for j in cand:
                shared = shapely.length(shapely.intersection(orphan.boundary, mains[j].boundary))
                if shared > best_len:
                    best, best_len = int(j), float(shared)
            if best < 0 or best_len < 1e-6:
                left.append(orphan)
                continue
            merged = shapely.union(mains[best], orphan)
            if isinstance(merged, Polygon):
                mains[best] = merged
            else:
                left.append(orphan)
        if len(left) == len(pending):
            break
        pending = left
    for orphan in pending:  # could not attach cleanly: a tiny piece; keep the tiling anyway
        j = int(np.argmin([m.distance(orphan) for m in mains]))
        merged = shapely.union(mains[j], orphan)
        parts = sorted(shapely.get_parts(merged), key=lambda p: -p.area)
        mains[j] = parts[0] if isinstance(merged, MultiPolygon) else merged
    return mains


def allocate(total: int, weights: npt.ArrayLike, *, minimum: int = 1) -> npt.NDArray[np.int64]:
    """Split an integer total in proportion to weights, at least `minimum` each (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    if total < minimum * n:
        raise ValueError(f"total {total} below {minimum} x {n}")
    free = total - minimum * n
    share = w / w.sum() * free
    out = np.floor(share).astype(np.int64)
    rest = free - int(out.sum())
    order = np.argsort(-(share - out), kind="stable")
    out[order[:rest]] += 1
    result: npt.NDArray[np.int64] = out + minimum
    return result
