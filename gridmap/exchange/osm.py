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
    """The walking network of ``ways``: split at shared nodes, measured on the WGS84 ellipsoid.

    Vectorised over every vertex at once: vertices are matched by position, each way is cut at
    its nodes, every pair of neighbouring vertices is measured in one geodesic call and each
    edge's length is a difference of running sums."""
    keep = np.array([walkable(h, o) for h, o in zip(ways["highway"], ways["other_tags"],
                                                    strict=True)], dtype=bool)
    has_highway = ways["highway"].notna().to_numpy()
    walk = ways[keep]
    if walk.empty:
        raise InvalidInput("文件中没有可步行的道路 (the file holds no walkable ways)")
    coords, way_of = shapely.get_coordinates(np.asarray(walk.geometry.values, dtype=object),
                                             return_index=True)
    keys = np.round(coords * _PRECISION).astype(np.int64)
    unique, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    first = np.r_[True, way_of[1:] != way_of[:-1]]   # a way's first vertex
    last = np.r_[way_of[1:] != way_of[:-1], True]    # and its last
    is_node = counts >= 2
    is_node[inverse[first | last]] = True
    node_index = np.full(len(unique), -1, dtype=np.int64)
    node_index[is_node] = np.arange(int(is_node.sum()))
    at_node = is_node[inverse]
    # Running length along each way, from one geodesic call over every neighbouring pair.
    _, _, step = pyproj.Geod(ellps="WGS84").inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0],
                                                coords[1:, 1])
    step = np.where(way_of[1:] == way_of[:-1], np.asarray(step, dtype=float), 0.0)
    running = np.r_[0.0, np.cumsum(step)]
    # Edges run from each node vertex to the next node vertex of the same way.
    cuts = np.flatnonzero(at_node)
    a, b = cuts[:-1], cuts[1:]
    same_way = way_of[a] == way_of[b]
    a, b = a[same_way], b[same_way]
    lengths = running[b] - running[a]
    real = lengths > 0
    a, b, lengths = a[real], b[real], lengths[real]
    sizes = b - a + 1
    vertex = np.repeat(a, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes,
                                                                       sizes))
    lines = shapely.linestrings(coords[vertex], indices=np.repeat(np.arange(len(a)), sizes))
    highways = walk["highway"].astype(str).to_numpy()[way_of[a]]
    names = walk["name"].to_numpy(dtype=object)[way_of[a]]
    positions = unique[is_node] / _PRECISION
    nodes = gpd.GeoDataFrame({"node_id": np.arange(1, len(positions) + 1)},
                             geometry=shapely.points(positions), crs="EPSG:4326")
    edges = gpd.GeoDataFrame({
        "edge_id": np.arange(1, len(a) + 1),
        "source": node_index[inverse[a]] + 1, "target": node_index[inverse[b]] + 1,
        "length_m": np.round(lengths, 2), "kind": [kind(h) for h in highways],
        "name": ["" if n is None or pd.isna(n) else str(n) for n in names]},
        geometry=lines, crs="EPSG:4326")
    return Network(nodes, edges, int(keep.sum()), int((has_highway & ~keep).sum()))
