"""Building footprints inside grids, clear of streets and of each other, and their residents."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Geoms = npt.NDArray[np.object_]

STREET_CLEARANCE_M = 8.0
BUILDING_GAP_M = 4.0
WIDTH_M = (10.0, 16.0)
LENGTH_M = (30.0, 70.0)
MEAN_PER_GRID = 8.5  # some small grids cannot fit their draw
CANDIDATES_PER_TARGET = 5


def place_buildings(grids: Geoms, streets: Geoms, settled: BaseGeometry,
                    rng: np.random.Generator) -> tuple[Geoms, Ints]:
    """Footprints and the index of the grid holding each, ordered by grid.

    Candidates are rotated rectangles with their long side along (or, one in four, across) the
    nearest street; a candidate survives if it lies inside its grid, keeps STREET_CLEARANCE_M from
    every centreline and BUILDING_GAP_M from buildings already accepted. Buildings also keep
    clear of the edge of the settled area, where a neighbouring district's streets may run (its
    edges reach up to 1 m over the border), so each district can be built on its own.
    """
    target = np.clip(rng.poisson(MEAN_PER_GRID, len(grids)), 2, 16)
    gi, rects = _candidates(grids, target, streets, rng)
    inner = shapely.buffer(settled, -(STREET_CLEARANCE_M + 1.5))
    shapely.prepare(inner)
    ok = shapely.covered_by(rects, inner)
    gi, rects = gi[ok], rects[ok]
    accepted = _select(gi, rects, target)
    order = np.lexsort((np.arange(len(accepted)), gi[accepted]))
    return rects[accepted][order], gi[accepted][order]


def _candidates(grids: Geoms, target: Ints, streets: Geoms,
                rng: np.random.Generator) -> tuple[Ints, Geoms]:
    n = target * CANDIDATES_PER_TARGET * 2 + 10  # x2: points outside the grid are rejected
    gi = np.repeat(np.arange(len(grids)), n)
    b = shapely.bounds(grids)[gi]
    x = rng.uniform(b[:, 0], b[:, 2])
    y = rng.uniform(b[:, 1], b[:, 3])
    shapely.prepare(grids)
    ok = shapely.contains_xy(grids[gi], x, y)
    gi, x, y = gi[ok], x[ok], y[ok]
    tree = shapely.STRtree(streets)
    i_in, i_tree = tree.query_nearest(shapely.points(x, y), all_matches=False)
    nearest = np.empty(len(x), dtype=np.int64)
    nearest[i_in] = i_tree
    seg = shapely.get_coordinates(streets[nearest]).reshape(-1, 2, 2)
    angle = np.arctan2(seg[:, 1, 1] - seg[:, 0, 1], seg[:, 1, 0] - seg[:, 0, 0])
    angle += np.where(rng.random(len(x)) < 0.25, np.pi / 2, 0.0) + rng.normal(0, 0.03, len(x))
    half_l = rng.uniform(*LENGTH_M, len(x)) / 2
    half_w = rng.uniform(*WIDTH_M, len(x)) / 2
    c, s = np.cos(angle), np.sin(angle)
    signs = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1), (1, 1)], dtype=float)
    du = signs[None, :, 0] * half_l[:, None]
    dv = signs[None, :, 1] * half_w[:, None]
    px = x[:, None] + du * c[:, None] - dv * s[:, None]
    py = y[:, None] + du * s[:, None] + dv * c[:, None]
    rects = shapely.polygons(np.stack([px, py], axis=-1))
    ok = shapely.contains(grids[gi], rects)
    gi, rects = gi[ok], rects[ok]
    hit = np.unique(tree.query(rects, predicate="dwithin", distance=STREET_CLEARANCE_M)[0])
    ok = np.ones(len(rects), dtype=bool)
    ok[hit] = False
    return gi[ok], rects[ok]


def _select(gi: Ints, rects: Geoms, target: Ints) -> Ints:
    """Greedy selection in rounds: each round takes the next free candidate of every grid."""
    alive = np.ones(len(rects), dtype=bool)
    taken = np.zeros(len(target), dtype=np.int64)
    accepted: list[Ints] = []
    while True:
        idx = np.flatnonzero(alive & (taken[gi] < target[gi]))
        if len(idx) == 0:
            break
        _, first = np.unique(gi[idx], return_index=True)  # candidates are in grid order
        pick = idx[first]
        accepted.append(pick)
        taken[gi[pick]] += 1
        alive[pick] = False
        tree = shapely.STRtree(rects[pick])
        near = tree.query(rects[idx], predicate="dwithin", distance=BUILDING_GAP_M)[0]
        alive[idx[near]] = False
    return np.concatenate(accepted) if accepted else np.zeros(0, dtype=np.int64)


def population(areas: Floats, total: int, rng: np.random.Generator) -> dict[str, Ints]:
    """Residents (summing to total) and household / elderly counts per building."""
    weight = areas * rng.lognormal(0.0, 0.5, len(areas))
    residents = _split(total, weight) if len(areas) else np.zeros(0, dtype=np.int64)
    size = rng.normal(2.6, 0.25, len(areas)).clip(1.8, 3.5)
    households = np.maximum(np.rint(residents / size), np.minimum(residents, 1)).astype(np.int64)
    share60 = rng.normal(0.25, 0.06, len(areas)).clip(0.15, 0.40)
    aged_60 = rng.binomial(residents, share60)
    aged_80 = rng.binomial(aged_60, rng.uniform(0.15, 0.20, len(areas)))
    alone = rng.binomial(aged_60, rng.uniform(0.10, 0.15, len(areas)))
    return {"households": households, "residents": residents, "aged_60_plus": aged_60,
            "aged_80_plus": aged_80, "elderly_living_alone": alone}


def _split(total: int, weight: Floats) -> Ints:
    share = weight / weight.sum() * total
    out: Ints = np.floor(share).astype(np.int64)
    out[np.argsort(-(share - out), kind="stable")[: total - int(out.sum())]] += 1
    return out
