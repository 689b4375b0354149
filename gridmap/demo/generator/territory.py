"""Settled area and the nested tiling district → sub-district → community → grid (metric CRS).

Names and codes of sub-districts and communities are real (NBS 2023); their shapes are not: they
are balanced Voronoi tiles of the district's settled area. Urban districts are settled in full;
suburban and county districts get a blob-shaped settlement around each sub-district seat, sized
to hold its communities, so the city's street network stays city-sized.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gridmap.demo.generator.inputs import GRID_TOTALS, SUBURBAN, URBAN
from gridmap.demo.generator.partition import allocate, kmeans, partition, sample_points

# Settled km² per community outside the urban core, and grids per community (article-free
# assumptions chosen so the whole city lands at 12–15k grids, as PRODUCT.md expects).
KM2_PER_COMMUNITY = {"suburban": 1.6, "county": 1.2}
GRIDS_PER_COMMUNITY = {"urban": 5.5, "suburban": 5.0, "county": 4.2}


def district_class(code: str) -> str:
    """'urban', 'suburban' or 'county' (drives settled area, density and grid rates)."""
    return "urban" if code in URBAN else "suburban" if code in SUBURBAN else "county"


@dataclass
class Territory:
    """One district's tiling; geometries in metres, lists aligned with their code lists."""

    settled: BaseGeometry
    sub_codes: list[str]
    sub_geoms: list[Polygon]
    comm_codes: list[str]
    comm_sub: list[str]
    comm_geoms: list[Polygon]
    grid_comm: list[str]  # community code of each grid
    grid_seq: list[int]  # 1-based number of the grid within its community
    grid_geoms: list[Polygon]


def build_territory(code: str, outline: BaseGeometry, div: pd.DataFrame,
                    rng: np.random.Generator) -> Territory:
    """Tile one district; `div` holds its street and community rows from the NBS table."""
    streets = div[div.level == "street"].sort_values("code")
    comms = div[div.level == "community"].sort_values("code")
    per_street = comms.groupby("parent_code").size().reindex(streets.code, fill_value=0)
    streets = streets[per_street.to_numpy() > 0]
    counts = per_street[per_street > 0].to_numpy()
    settled, seats = _settled_area(code, outline, counts, rng)
    sub_geoms = _split_by_seats(settled, seats, rng)
    comm_codes: list[str] = []
    comm_sub: list[str] = []
    comm_geoms: list[Polygon] = []
    for sub_code, geom in zip(streets.code, sub_geoms, strict=True):
        kids = comms[comms.parent_code == sub_code].code.tolist()
        comm_geoms.extend(partition(geom, len(kids), rng))
        comm_codes.extend(kids)
        comm_sub.extend([sub_code] * len(kids))
    areas = np.array([g.area for g in comm_geoms])
    cls = district_class(code)
    total = GRID_TOTALS.get(code, int(round(GRIDS_PER_COMMUNITY[cls] * len(comm_codes))))
    n_grids = allocate(total, areas)
    grid_comm: list[str] = []
    grid_seq: list[int] = []
    grid_geoms: list[Polygon] = []
    for c_code, geom, k in zip(comm_codes, comm_geoms, n_grids, strict=True):
        grid_geoms.extend(partition(geom, int(k), rng))
        grid_comm.extend([c_code] * int(k))
        grid_seq.extend(range(1, int(k) + 1))
    return Territory(settled, streets.code.tolist(), sub_geoms, comm_codes, comm_sub,
                     comm_geoms, grid_comm, grid_seq, grid_geoms)


def _settled_area(code: str, outline: BaseGeometry, counts: np.ndarray,
                  rng: np.random.Generator) -> tuple[BaseGeometry, np.ndarray]:
    """Settled area and one seat point per sub-district (seats lie inside it)."""
    core = outline.buffer(-1500.0) if district_class(code) != "urban" else outline
    if core.is_empty or core.area < 0.2 * outline.area:
        core = outline
    pts = sample_points(core, 60 * len(counts) + 400, rng)
    seats = kmeans(pts, len(counts), rng)
    if district_class(code) == "urban":
        return _drop_small_parts(outline, seats), seats
    km2 = KM2_PER_COMMUNITY[district_class(code)]
    blobs = [_blob(seat, np.sqrt(n * km2 * 1e6 / np.pi), rng) for seat, n in zip(seats, counts,
                                                                                  strict=True)]
    settled = shapely.intersection(shapely.union_all(blobs), outline)
    return _drop_small_parts(settled, seats), seats


def _blob(center: np.ndarray, r0: float, rng: np.random.Generator) -> Polygon:
    """A star-shaped irregular disc of mean radius r0."""
    t = np.linspace(0, 2 * np.pi, 73)[:-1]
    amp = rng.uniform([0.05, 0.03, 0.02], [0.15, 0.10, 0.06])
    ph = rng.uniform(0, 2 * np.pi, 3)
    r = r0 * (1 + sum(a * np.sin((i + 1) * t + p) for i, (a, p) in enumerate(zip(amp, ph,
                                                                                  strict=True))))
    return Polygon(np.column_stack([center[0] + r * np.cos(t), center[1] + r * np.sin(t)]))


def _drop_small_parts(geom: BaseGeometry, seats: np.ndarray) -> BaseGeometry:
    """Keep only the polygon parts that hold a seat (slivers cut off by the outline go)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon)]
    seated = [p for p in parts if shapely.contains_xy(p, seats[:, 0], seats[:, 1]).any()]
    return shapely.union_all(seated)


def _split_by_seats(settled: BaseGeometry, seats: np.ndarray,
                    rng: np.random.Generator) -> list[Polygon]:
    """One connected polygon per seat: each settled part is split among the seats inside it."""
    out: list[Polygon | None] = [None] * len(seats)
    for part in shapely.get_parts(settled):
        mine = np.flatnonzero(shapely.contains_xy(part, seats[:, 0], seats[:, 1]))
        if len(mine) == 0:
            continue
        tiles = partition(part, len(mine), rng, init=seats[mine])
        for i, tile in zip(mine, tiles, strict=True):
            out[i] = tile
    missing = [i for i, g in enumerate(out) if g is None]
    if missing:  # a seat on a part boundary: cannot happen with seats drawn inside parts
        raise RuntimeError(f"sub-district seats without territory: {missing}")
    return [g for g in out if g is not None]
