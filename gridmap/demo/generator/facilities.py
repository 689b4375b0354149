"""Service facilities: counts from the articles where they give them, plausible rates elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.demo.generator.inputs import DADONG, SHENHE
from gridmap.demo.generator.partition import sample_points

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Geoms = npt.NDArray[np.object_]


@dataclass(frozen=True)
class FacilityType:
    """How a facility type is counted, named and described."""

    code: str
    abbr: str
    per_community: float  # default rate where no article figure exists
    label: str  # name suffix
    capacity: tuple[int, int] | None
    hours: str


TYPES = (
    FacilityType("party_service_station", "PS", 1.0, "党群服务站", None, "08:30-17:30"),
    FacilityType("elder_care_station", "EC", 0.9, "养老服务站", (10, 40), "08:00-17:00"),
    FacilityType("home_care_centre", "HC", 0.3, "居家养老服务中心", (20, 60), "08:00-18:00"),
    FacilityType("day_care_centre", "DC", 0.2, "日间照料中心", (10, 30), "07:30-18:00"),
    FacilityType("pocket_park", "PP", 1.2, "口袋公园", None, "06:00-21:00"),
    FacilityType("mediation_point", "MP", 1.0, "评理说事点", None, "09:00-16:00"),
    FacilityType("charity_canteen", "CC", 0.2, "爱心食堂", (20, 60), "10:30-13:00"),
    FacilityType("health_station", "HS", 0.3, "健康驿站", None, "08:00-16:30"),
    FacilityType("community_school", "CS", 0.5, "睦邻学习点", (20, 50), "09:00-20:00"),
    FacilityType("employment_service", "ES", 0.15, "就业服务站", None, "08:30-16:30"),
)
ONE_PER_COMMUNITY = {"party_service_station", "mediation_point"}

# District totals from the articles in the project's seeds.
ARTICLE_COUNTS = {
    DADONG: {"elder_care_station": 112, "pocket_park": 210},  # 112个社区养老服务站; 210座口袋公园
    SHENHE: {"elder_care_station": 126, "home_care_centre": 44, "pocket_park": 100},
}


def facility_counts(district: str, weights: Floats, rng: np.random.Generator) -> dict[str, Ints]:
    """Per-community count of each facility type (weights: e.g. community residents)."""
    n = len(weights)
    out: dict[str, Ints] = {}
    for ft in TYPES:
        if ft.code in ONE_PER_COMMUNITY:
            out[ft.code] = np.ones(n, dtype=np.int64)
            continue
        total = ARTICLE_COUNTS.get(district, {}).get(ft.code, int(round(ft.per_community * n)))
        base = np.zeros(n, dtype=np.int64)
        if total >= n:  # at least one everywhere, the rest where people are
            base += 1
            total -= n
        p = weights / weights.sum()
        pick = rng.choice(n, size=total, replace=False, p=p) if total <= int((p > 0).sum()) \
            else rng.choice(n, size=total, replace=True, p=p)
        out[ft.code] = base + np.bincount(pick, minlength=n)
    return out


def place_facilities(communities: pd.DataFrame, comm_geoms: Geoms, node_xy: Floats,
                     buildings: Geoms, district_name: str,
                     rng: np.random.Generator) -> tuple[pd.DataFrame, Floats, Ints]:
    """Facility rows (metric x, y) a few metres off a street node inside their community.

    `communities` has columns code, short_name and one count column per facility type. A
    community with no street node inside (a sliver along the district border) first gets a short
    access road; returns (facilities, new node xy, new edges as node-index pairs).
    """
    n_idx, c_idx = shapely.STRtree(comm_geoms).query(shapely.points(node_xy), predicate="within")
    by_comm = pd.Series(n_idx).groupby(c_idx).apply(np.asarray).to_dict()
    b_tree = shapely.STRtree(buildings)
    node_tree = shapely.STRtree(shapely.points(node_xy))
    new_xy: list[Floats] = []
    new_edges: list[tuple[int, int]] = []
    rows: list[dict[str, object]] = []
    park_no = 0
    for ci, comm in enumerate(communities.itertuples(index=False)):
        if ci not in by_comm:
            access = _access_road(comm_geoms[ci], node_xy, node_tree, b_tree, rng)
            if access is not None:
                new_edges.append((access[0], len(node_xy) + len(new_xy)))
                by_comm[ci] = np.array([len(node_xy) + len(new_xy)])
                new_xy.append(access[1])
        all_xy = np.concatenate([node_xy, *[p[None, :] for p in new_xy]])
        for ft in TYPES:
            for k in range(int(getattr(comm, ft.code))):
                if ft.code == "pocket_park":
                    park_no += 1
                    name = f"{district_name}第{park_no}{ft.label}"
                else:
                    name = comm.short_name + ("" if k == 0 else f"第{k + 1}") + ft.label
                x, y = _spot(comm_geoms[ci], by_comm.get(ci), all_xy, b_tree, rng)
                cap = None if ft.capacity is None else int(rng.integers(*ft.capacity))
                rows.append({"code": f"F{comm.code}{ft.abbr}{k + 1:02d}", "type": ft.code,
                             "name": name, "capacity": cap, "hours": ft.hours,
                             "community_code": comm.code, "x": x, "y": y})
    return (pd.DataFrame(rows), np.array(new_xy, dtype=float).reshape(-1, 2),
            np.array(new_edges, dtype=np.int64).reshape(-1, 2))


def _access_road(comm: BaseGeometry, node_xy: Floats, node_tree: shapely.STRtree,
                 b_tree: shapely.STRtree,
                 rng: np.random.Generator) -> tuple[int, Floats] | None:
    """(existing node, new node xy) of the shortest building-free road into the community."""
    cand = sample_points(comm, 300, rng)
    (i_in, i_node), dist = node_tree.query_nearest(shapely.points(cand), return_distance=True,
                                                   all_matches=False)
    segs = shapely.linestrings(np.stack([cand[i_in], node_xy[i_node]], axis=1))
    dist[b_tree.query(segs, predicate="dwithin", distance=8.0)[0]] = np.inf
    best = int(np.argmin(dist))
    if not np.isfinite(dist[best]):
        return None
    return int(i_node[best]), cand[i_in[best]]


def _spot(comm: BaseGeometry, nodes: npt.NDArray[np.intp] | None, node_xy: Floats,
          b_tree: shapely.STRtree, rng: np.random.Generator) -> tuple[float, float]:
    """A point 5–25 m off a random street node of the community, not on or next to a building."""
    if nodes is None or len(nodes) == 0:  # no building-free access either: any free spot
        cand = sample_points(comm, 50, rng)
        free = np.setdiff1d(np.arange(len(cand)), b_tree.query(
            shapely.points(cand), predicate="dwithin", distance=3.0)[0])
        pick = cand[free[0]] if len(free) else cand[0]
        return float(pick[0]), float(pick[1])
    base = node_xy[rng.choice(nodes, size=8)]
    r = rng.uniform(5.0, 25.0, 8)
    t = rng.uniform(0, 2 * np.pi, 8)
    cand = base + np.column_stack([r * np.cos(t), r * np.sin(t)])
    inside = shapely.contains_xy(comm, cand[:, 0], cand[:, 1])
    clear = ~np.isin(np.arange(8), b_tree.query(shapely.points(cand), predicate="dwithin",
                                                distance=3.0)[0])
    good = np.flatnonzero(inside & clear)
    if len(good):
        return float(cand[good[0], 0]), float(cand[good[0], 1])
    return float(base[0, 0]), float(base[0, 1])  # on the street itself: clear of buildings
