"""OpenStreetMap to a walking network: the ways a pedestrian may use, split at the nodes they
share into edges with their length in metres.

Read through GDAL's OSM driver (pyogrio: PBF and XML, vectorised, no new dependency; ways come
as line strings with their tags). Which ways count follows OSMnx's ``walk`` network: every
``highway`` except motorways, cycleways, platforms, raceways, bus guideways and what is
abandoned, planned, proposed, razed or under construction; and none tagged ``foot=no``,
``access=private``, ``service=private`` or ``area=yes``. Ways meet where they share a node; OSM
gives a shared node the same coordinates in both ways, so vertices are matched by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from gridmap.errors import InvalidInput

EXCLUDED = re.compile(r"abandoned|bus_guideway|construction|cycleway|motor|^no$|planned|platform"
                      r"|proposed|raceway|razed")
"""Highway values that are not for walking (OSMnx's ``walk`` filter)."""
ARTERIAL = {"trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link"}
PATHS = {"footway", "path", "pedestrian", "steps", "track", "corridor", "bridleway"}
_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_PRECISION = 1e7
"""Vertices are matched at 1e-7° (about 1 cm), OSM's own precision."""


@dataclass(frozen=True)
class Network:
    """Nodes (``node_id``, point) and edges (``edge_id``, ``source``, ``target``, ``length_m``,
    ``kind``, ``name``, line) of a walking network, in WGS84."""

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    ways: int
    skipped: int
    """Ways with a ``highway`` tag left out as not for walking."""


def tags(other: object) -> dict[str, str]:
    """GDAL's ``other_tags`` (``"k"=>"v",…``; empty or missing) as a dict."""
    return dict(_TAG.findall(other)) if isinstance(other, str) else {}


def walkable(highway: object, other: object) -> bool:
    """Whether a way with these tags is in the walking network."""
    if not isinstance(highway, str) or not highway or EXCLUDED.search(highway):
        return False
    t = tags(other)
    return not (t.get("foot") == "no" or t.get("access") == "private"
                or t.get("service") == "private" or t.get("area") == "yes")


def kind(highway: str) -> str:
    """The street kind gridmap draws: arterial, path or local."""
    return "arterial" if highway in ARTERIAL else "path" if highway in PATHS else "local"


def read_ways(path: Path) -> gpd.GeoDataFrame:
    """The ``lines`` layer of an OSM file (ways as line strings with their tags)."""
    try:
        return pyogrio.read_dataframe(path, layer="lines",
                                      columns=["osm_id", "name", "highway", "other_tags"])
    except Exception as exc:  # noqa: BLE001 - GDAL's many errors: one clear message
        raise InvalidInput(f"{path.name}：无法作为 OSM 文件读取（需 .osm 或 .osm.pbf）：{str(exc)[:160]} "
                           "(cannot read it as OpenStreetMap data)") from None


def network(ways: gpd.GeoDataFrame) -> Network:
    """The walking network of ``ways``: split at shared nodes, measured on the WGS84 ellipsoid."""
    keep = np.array([walkable(h, o) for h, o in zip(ways["highway"], ways["other_tags"],
                                                    strict=True)], dtype=bool)
    has_highway = ways["highway"].notna().to_numpy()
    walk = ways[keep]
    lines = [np.asarray(shapely.get_coordinates(g)) for g in walk.geometry]
    if not lines:
        raise InvalidInput("文件中没有可步行的道路 (the file holds no walkable ways)")
    keys = [np.round(c * _PRECISION).astype(np.int64) for c in lines]
    stacked = np.concatenate(keys)
    unique, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    is_node = counts >= 2
    offsets = np.cumsum([0, *(len(k) for k in keys)])
    for start, end in zip(offsets[:-1], offsets[1:], strict=True):
        is_node[inverse[start]] = True  # a way's ends are nodes
        is_node[inverse[end - 1]] = True
    node_index = np.full(len(unique), -1, dtype=np.int64)
    node_index[is_node] = np.arange(int(is_node.sum()))
    geod = pyproj.Geod(ellps="WGS84")
    sources, targets, lengths, kinds, names, geoms = [], [], [], [], [], []
    for w, (coords, start) in enumerate(zip(lines, offsets[:-1], strict=True)):
        ids = inverse[start:start + len(coords)]
        cut = np.flatnonzero(is_node[ids])
        highway = str(walk["highway"].iloc[w])
        name = walk["name"].iloc[w]
        for a, b in zip(cut[:-1], cut[1:], strict=True):
            if b <= a:
                continue
            part = coords[a:b + 1]
            length = float(geod.line_length(part[:, 0], part[:, 1]))
            if length <= 0:
                continue
            sources.append(int(node_index[ids[a]]) + 1)
            targets.append(int(node_index[ids[b]]) + 1)
            lengths.append(round(length, 2))
            kinds.append(kind(highway))
            names.append("" if name is None or pd.isna(name) else str(name))
            geoms.append(shapely.LineString(part))
    positions = unique[is_node] / _PRECISION
    nodes = gpd.GeoDataFrame({"node_id": np.arange(1, len(positions) + 1)},
                             geometry=shapely.points(positions), crs="EPSG:4326")
    edges = gpd.GeoDataFrame({"edge_id": np.arange(1, len(sources) + 1), "source": sources,
                              "target": targets, "length_m": lengths, "kind": kinds,
                              "name": names}, geometry=geoms, crs="EPSG:4326")
    return Network(nodes, edges, int(keep.sum()), int((has_highway & ~keep).sum()))
