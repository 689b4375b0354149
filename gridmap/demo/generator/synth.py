"""Deterministic synthetic demo data for Shenyang: territory, streets, buildings, people.

Real: the 13 district outlines and the names/codes of districts, sub-districts and communities
(geodata/README.md). Synthetic: every other geometry and attribute. Each district is generated
from its own random streams, seeded by (seed, district code, step), so a district comes out the
same alone or with others; only the link roads between districts depend on the set generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from gridmap.codes import Level
from gridmap.codes import width as code_width
from gridmap.crs import SRID
from gridmap.demo.generator import streets as st
from gridmap.demo.generator.buildings import place_buildings, population
from gridmap.demo.generator.facilities import TYPES, facility_counts, place_facilities
from gridmap.demo.generator.inputs import (
    DEMO_DISTRICTS,
    GEODATA,
    RESIDENT_TOTALS,
    districts_metric,
    districts_wgs84,
    divisions,
    metric_crs,
)
from gridmap.demo.generator.names import estate_name, short_community_name
from gridmap.demo.generator.people import DEPARTMENTS, make_people
from gridmap.demo.generator.territory import Territory, build_territory, district_class

# Residents per community where the articles give no district total (rural ones lower density).
RESIDENTS_PER_COMMUNITY = {"urban": 5_500, "suburban": 3_500, "county": 1_600}
LINK_ID_BASE = 10**12  # ids of link edges between districts; district ids are code * 10**6 + i
ID_STRIDE = 10**6  # node and edge ids: district code * ID_STRIDE + index

STEPS = {"territory": 0, "streets": 1, "buildings": 2, "population": 3, "facilities": 4,
         "people": 5, "links": 6}


@dataclass(frozen=True)
class DemoData:
    """All demo layers; geometries in EPSG:4326, codes as str (see module docstring)."""

    districts: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    street_nodes: gpd.GeoDataFrame
    street_edges: gpd.GeoDataFrame
    departments: pd.DataFrame
    people: pd.DataFrame
    enrollments: pd.DataFrame
    grid_workers: pd.DataFrame


def _rng(seed: int, code: str, step: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(code), STEPS[step]])


def generate(*, scale: Literal["districts", "city"] = "districts", seed: int = 20231101,
             districts: Sequence[str] | None = None, progress: bool = False,
             geodata_dir: Path | None = None) -> DemoData:
    """Generate the demo data set.

    Parameters
    ----------
    scale
        "districts": 沈河 and 大东; "city": all 13 districts.
    seed
        Master seed; same arguments give identical output.
    districts
        6-digit district codes to generate instead of `scale` (e.g. ["210103"] for tests).
    progress
        Show tqdm progress bars on stderr.
    geodata_dir
        Folder holding the real outlines and codes (default: the checkout's ``geodata/``).
    """
    root = geodata_dir or GEODATA
    crs = metric_crs(root)
    outlines = districts_metric(root)
    known = outlines.code.tolist()
    codes = list(districts) if districts is not None else (
        list(DEMO_DISTRICTS) if scale == "districts" else known)
    unknown = sorted(set(codes) - set(known))
    if unknown or scale not in ("districts", "city"):
        raise ValueError(f"unknown district codes {unknown} or scale {scale!r}")
    codes = sorted(set(codes))
    div = divisions(root)
    parts = [
        _district(code, outlines, div, seed)
        for code in tqdm(codes, desc="districts", disable=not progress)
    ]
    return _assemble(parts, codes, seed, districts_wgs84(root), crs)


@dataclass
class _Part:
    """One district's layers in metres, street ids already made global."""

    subdistricts: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    nodes: pd.DataFrame  # node_id, x, y, group
    edges: pd.DataFrame  # edge_id, source, target, kind, name
    people: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


def _district(code: str, outlines: gpd.GeoDataFrame, div: pd.DataFrame, seed: int) -> _Part:
    """Everything inside one district, in metres (in the outlines' metric CRS)."""
    crs = outlines.crs
    row = outlines[outlines.code == code].iloc[0]
    mine = div[div.district_code == code]
    names = dict(zip(mine.code, mine.name, strict=True))
    terr = build_territory(code, row.geometry, mine, _rng(seed, code, "territory"))
    net = st.build_streets(terr.settled, _rng(seed, code, "streets"))
    lines = net.lines()
    grid_arr = np.array(terr.grid_geoms, dtype=object)
    b_geoms, b_grid = place_buildings(grid_arr, lines, terr.settled, _rng(seed, code, "buildings"))
    total = RESIDENT_TOTALS.get(
        code, RESIDENTS_PER_COMMUNITY[district_class(code)] * len(terr.comm_codes))
    pop = population(shapely.area(b_geoms), total, _rng(seed, code, "population"))
    grids = _grid_frame(terr, names, crs)
    buildings = _building_frame(grids, b_geoms, b_grid, pop, net, lines, row["name"],
                                _rng(seed, code, "buildings"))
    comms = _community_frame(terr, names, crs)
    res = buildings.groupby(buildings.grid_code.str[:code_width(Level.COMMUNITY)]).residents.sum()
    weights = res.reindex(comms.code, fill_value=0).to_numpy(float) + 1.0
    counts = facility_counts(code, weights, _rng(seed, code, "facilities"))
    fac, access_xy, access = place_facilities(
        comms.assign(**counts), np.array(terr.comm_geoms, dtype=object), net.node_xy, b_geoms,
        row["name"], _rng(seed, code, "facilities"))
    net = st.StreetNet(np.concatenate([net.node_xy, access_xy]),
                       np.concatenate([net.src, access[:, 0]]),
                       np.concatenate([net.dst, access[:, 1]]),
                       net.kind + ["local"] * len(access), net.name + [""] * len(access))
    subs = gpd.GeoDataFrame(
        {"code": terr.sub_codes, "name": [names[c] for c in terr.sub_codes],
         "district_code": code}, geometry=terr.sub_geoms, crs=crs)
    facilities = gpd.GeoDataFrame(fac.drop(columns=["x", "y"]),
                                  geometry=shapely.points(fac.x, fac.y), crs=crs)
    nodes, edges = _street_tables(net, int(code))
    people = make_people(code, comms.code.tolist(), grids, _rng(seed, code, "people"))
    return _Part(subs, comms.drop(columns="short_name"), grids, buildings, facilities, nodes,
                 edges, people)


def _street_tables(net: st.StreetNet, group: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge tables with dataset-wide ids (district code * ID_STRIDE + index)."""
    base = group * ID_STRIDE
    nodes = pd.DataFrame({"node_id": base + np.arange(len(net.node_xy)),
                          "x": net.node_xy[:, 0], "y": net.node_xy[:, 1], "group": group})
    edges = pd.DataFrame({"edge_id": base + np.arange(len(net.src)), "source": base + net.src,
                          "target": base + net.dst, "kind": net.kind, "name": net.name})
    return nodes, edges


def _grid_frame(terr: Territory, comm_names: dict[str, str], crs: Any) -> gpd.GeoDataFrame:
    codes = [f"{c}{s:03d}" for c, s in zip(terr.grid_comm, terr.grid_seq, strict=True)]
    names = [f"{short_community_name(comm_names[c])}第{s:03d}网格"
             for c, s in zip(terr.grid_comm, terr.grid_seq, strict=True)]
    return gpd.GeoDataFrame({"code": codes, "name": names, "community_code": terr.grid_comm},
                            geometry=terr.grid_geoms, crs=crs)


def _community_frame(terr: Territory, comm_names: dict[str, str], crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": terr.comm_codes, "name": [comm_names[c] for c in terr.comm_codes],
         "subdistrict_code": terr.comm_sub,
         "short_name": [short_community_name(comm_names[c]) for c in terr.comm_codes]},
        geometry=terr.comm_geoms, crs=crs)


def _building_frame(grids: gpd.GeoDataFrame, geoms: np.ndarray, grid_idx: np.ndarray,
                    pop: dict[str, np.ndarray], net: st.StreetNet, lines: np.ndarray,
                    district_name: str, rng: np.random.Generator) -> gpd.GeoDataFrame:
    grid_code = grids.code.to_numpy()[grid_idx]
    seq = pd.Series(grid_idx).groupby(grid_idx).cumcount().to_numpy() + 1
    comm = grids.community_code.to_numpy()[grid_idx]
    no_in_comm = pd.Series(comm).groupby(comm).cumcount().to_numpy() + 1
    stems = {c: estate_name(n) for c, n in zip(grids.community_code,
                                               grids.name.str.split("第").str[0], strict=True)}
    named = np.flatnonzero(np.array([n != "" for n in net.name]))
    if len(named):
        near = shapely.STRtree(lines[named]).query_nearest(
            shapely.centroid(geoms), all_matches=False)
        street = np.empty(len(geoms), dtype=object)
        street[near[0]] = np.array(net.name, dtype=object)[named][near[1]]
    else:
        street = np.full(len(geoms), "", dtype=object)
    numbers = rng.integers(1, 400, len(geoms))
    return gpd.GeoDataFrame(
        {"code": [f"{g}{s:03d}" for g, s in zip(grid_code, seq, strict=True)],
         "name": [f"{stems[c]}{n}号楼" for c, n in zip(comm, no_in_comm, strict=True)],
         "address": [f"沈阳市{district_name}{s}{n}号" for s, n in zip(street, numbers,
                                                                      strict=True)],
         "grid_code": grid_code, **pop},
        geometry=geoms, crs=grids.crs)


def _assemble(parts: list[_Part], codes: list[str], seed: int,
              outlines: gpd.GeoDataFrame, crs: str) -> DemoData:
    """Join district parts, link their street networks, convert to WGS84."""
    def cat(name: str) -> pd.DataFrame:
        return pd.concat([getattr(p, name) for p in parts], ignore_index=True)

    node_df, bld = cat("nodes"), cat("buildings")
    edge_df = _add_links(node_df, cat("edges"), bld, seed, codes)
    people = [pd.concat([p.people[i] for p in parts], ignore_index=True) for i in range(3)]
    return DemoData(
        districts=outlines.copy(),
        subdistricts=_wgs(cat("subdistricts"), multi=True),
        communities=_wgs(cat("communities"), multi=True),
        grids=_wgs(cat("grids")),
        buildings=_wgs(bld),
        facilities=_wgs(cat("facilities").astype({"capacity": "Int64"})),
        street_nodes=_wgs(gpd.GeoDataFrame(
            node_df[["node_id"]], geometry=shapely.points(node_df.x, node_df.y),
            crs=crs)),
        street_edges=_edge_frame(node_df, edge_df, crs),
        departments=pd.DataFrame(DEPARTMENTS, columns=["code", "name_zh", "name_en"]),
        people=people[0], enrollments=people[1], grid_workers=people[2],
    )


def _add_links(node_df: pd.DataFrame, edge_df: pd.DataFrame, bld: pd.DataFrame, seed: int,
               codes: list[str]) -> pd.DataFrame:
    """Append link edges between district networks (none when one district is generated)."""
    if len(codes) < 2:
        return edge_df
    pos = pd.Series(np.arange(len(node_df)), index=node_df.node_id)
    s_idx = pos[edge_df.source].to_numpy()
    d_idx = pos[edge_df.target].to_numpy()
    rng = np.random.default_rng([seed, *(int(c) for c in codes), STEPS["links"]])
    a, b, kind, name = st.link_networks(node_df[["x", "y"]].to_numpy(), node_df.group.to_numpy(),
                                        s_idx, d_idx, bld.geometry.to_numpy(), rng)
    ids = node_df.node_id.to_numpy()
    links = pd.DataFrame({"edge_id": LINK_ID_BASE + np.arange(len(a)), "source": ids[a],
                          "target": ids[b], "kind": kind, "name": name})
    return pd.concat([edge_df, links], ignore_index=True)


def _edge_frame(node_df: pd.DataFrame, edge_df: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
    xy = node_df.set_index("node_id")[["x", "y"]]
    a = xy.loc[edge_df.source].to_numpy()
    b = xy.loc[edge_df.target].to_numpy()
    geoms = shapely.linestrings(np.stack([a, b], axis=1))
    frame = gpd.GeoDataFrame(
        edge_df.assign(length_m=shapely.length(geoms))[
            ["edge_id", "source", "target", "length_m", "kind", "name"]],
        geometry=geoms, crs=crs)
    return _wgs(frame)


def _wgs(frame: pd.DataFrame, *, multi: bool = False) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(frame, geometry="geometry")
    if gdf.crs is None:  # every frame is built in the city's metric CRS and must say so
        raise ValueError("demo frame without a CRS")
    gdf = gdf.to_crs(SRID)
    if multi:
        gdf["geometry"] = [shapely.multipolygons(shapely.get_parts(g)) for g in gdf.geometry]
    return gdf.reset_index(drop=True)


__all__ = ["DemoData", "TYPES", "generate"]
