"""Where a file's coordinates are: its CRS (any EPSG code, or GCJ-02 / BD-09, which no EPSG code
names), the conversion to WGS84, and the checks that catch the usual mistakes — projected
metres labelled as degrees, latitude and longitude swapped, and GCJ-02 (or BD-09) data labelled
as WGS84, found by how well the data fits the streets already loaded under each datum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from pyproj.exceptions import CRSError

from gridmap import crs as datums
from gridmap.errors import InvalidInput
from gridmap.exchange.report import Problem

Geoms = npt.NDArray[np.object_]
WGS84 = "wgs84"
SHIFTED = ("gcj02", "bd09")
"""Datums with no EPSG code: China's obfuscated GCJ-02 (Amap, Tencent) and Baidu's BD-09."""
_TO_WGS84: dict[str, Callable[[Any, Any], tuple[Any, Any]]] = {
    WGS84: lambda lon, lat: (lon, lat), "gcj02": datums.gcj02_to_wgs84,
    "bd09": datums.bd09_to_wgs84}
CLEARLY_BETTER = 2.5
MIN_GAIN_M = 25.0
"""Another datum fits clearly better when the declared one's median distance is at least
``CLEARLY_BETTER`` × its median plus ``MIN_GAIN_M``. GCJ-02 moves Shenyang by about 500 m:
against the same features or their parent areas that is decisive (the right datum gives about
0 m); against the streets it is decisive only where they are sparse, since a point moved that
far in a dense network is still a block's quarter from some street."""
MIN_SAMPLE = 20
"""Fewer points than this say nothing either way."""


@dataclass(frozen=True)
class Georef:
    """A file's coordinate system: an EPSG CRS, or a shifted datum over longitude/latitude."""

    label: str
    crs: pyproj.CRS | None
    """None for GCJ-02 and BD-09 (longitude/latitude in that datum)."""

    @property
    def datum(self) -> str:
        """How its longitude/latitude relate to WGS84: ``wgs84``, ``gcj02`` or ``bd09``."""
        return self.label if self.crs is None else WGS84

    @property
    def geographic(self) -> bool:
        """Whether its coordinates are degrees."""
        return self.crs is None or bool(self.crs.is_geographic)


def parse(raw: str) -> Georef:
    """``--crs``: an EPSG code (``EPSG:4549``, ``4549``), ``wgs84``, ``cgcs2000``, ``gcj02``
    or ``bd09``."""
    key = raw.strip().lower().replace("-", "").replace("_", "")
    if key in SHIFTED:
        return Georef(key, None)
    aliases = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "crs84": "OGC:CRS84"}
    text = aliases.get(key, raw.strip())
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        found = pyproj.CRS.from_user_input(text)
    except CRSError:
        raise InvalidInput(f"未知坐标系 {raw[:40]!r}：请给出 EPSG 代码（如 EPSG:4549）、wgs84、"
                           f"cgcs2000、gcj02 或 bd09 (unknown CRS: give an EPSG code, wgs84, "
                           "cgcs2000, gcj02 or bd09)") from None
    return Georef(found.to_string(), found)


def resolve(given: str | None, declared: str | None, name: str) -> Georef:
    """The CRS to read a file in: ``--crs`` over what the file declares; InvalidInput when
    there is neither (a Shapefile without ``.prj``)."""
    if given:
        return parse(given)
    if declared:
        return parse(declared)
    raise InvalidInput(f"{name}：文件没有声明坐标系（如 Shapefile 缺少 .prj），请用 --crs 指定，"
                       "如 --crs EPSG:4549 或 --crs gcj02 (the file declares no CRS, e.g. a "
                       "Shapefile without .prj: give one with --crs)")


def _apply(geoms: Geoms, fn: Callable[[Any, Any], tuple[Any, Any]]) -> Geoms:
    def move(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = fn(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])

    moved: Geoms = shapely.transform(geoms, move)
    return moved


def apparent_lonlat(geoms: Geoms, georef: Georef) -> Geoms:
    """Geometries as longitude/latitude in the georef's own datum (2D; Z and M dropped):
    projected coordinates are unprojected, GCJ-02/BD-09 ones stay as they are."""
    flat: Geoms = (shapely.force_2d(geoms)
                   if np.any(shapely.has_z(geoms)) or np.any(shapely.has_m(geoms)) else geoms)
    if georef.crs is None or georef.crs.equals(pyproj.CRS("EPSG:4326")):
        return flat
    to_lonlat = pyproj.Transformer.from_crs(georef.crs, "EPSG:4326", always_xy=True)
    return _apply(flat, to_lonlat.transform)


def to_wgs84(lonlat: Geoms, datum: str) -> Geoms:
    """Geometries given as longitude/latitude in ``datum`` (wgs84, gcj02, bd09) in WGS84."""
    return lonlat if datum == WGS84 else _apply(lonlat, _TO_WGS84[datum])


def coordinate_problems(raw: Geoms, georef: Georef) -> list[Problem]:
    """File-wide mistakes: metres labelled as degrees, latitude/longitude swapped."""
    coords = shapely.get_coordinates(raw)
    if not len(coords) or not georef.geographic:
        return []
    x, y = coords[:, 0], coords[:, 1]
    china_lon, china_lat = (73 <= x) & (x <= 136), (3 <= y) & (y <= 54)
    swapped_lon, swapped_lat = (73 <= y) & (y <= 136), (3 <= x) & (x <= 54)
    if np.mean(swapped_lon & swapped_lat) > 0.9 and np.mean(china_lon & china_lat) < 0.1:
        return [Problem(None, "", "geometry", "lat_lon_swapped",
                        f"坐标顺序似乎是（纬度, 经度）：如 ({x[0]:.5f}, {y[0]:.5f})，请交换",
                        f"the coordinates look like (latitude, longitude), e.g. "
                        f"({x[0]:.5f}, {y[0]:.5f}): swap them")]
    if np.mean((np.abs(x) > 180) | (np.abs(y) > 90)) > 0.5:
        return [Problem(None, "", "geometry", "projected_as_degrees",
                        f"坐标值（如 {x[0]:.0f}, {y[0]:.0f}）是米而不是度：文件声明的坐标系 "
                        f"{georef.label} 有误，请用 --crs 给出投影坐标系（如 EPSG:4549）",
                        f"the coordinates (e.g. {x[0]:.0f}, {y[0]:.0f}) are metres, not degrees: "
                        "the declared CRS is wrong; give the projected one with --crs")]
    return []


def sample_points(lonlat: Geoms, n: int = 1000, seed: int = 0) -> npt.NDArray[np.float64]:
    """Up to ``n`` vertices of the geometries (evenly drawn), as an (n, 2) array."""
    coords = shapely.get_coordinates(lonlat)
    if len(coords) > n:
        coords = coords[np.random.default_rng(seed).choice(len(coords), n, replace=False)]
    return np.asarray(coords, dtype=np.float64)


def hypotheses(points: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[np.float64]]:
    """Where the points would be in WGS84 if their longitude/latitude were WGS84, GCJ-02 or
    BD-09."""
    out = {}
    for datum, fn in _TO_WGS84.items():
        x, y = fn(points[:, 0], points[:, 1])
        out[datum] = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    return out


class Basis(StrEnum):
    """What a sample's fit under each datum is measured against, strongest first."""

    SAME_CODE = "same_code"
    """The same features (by code) already loaded: how far each is from its old position."""
    PARENT = "parent"
    """Each feature's declared parent area (grid → community …): how far outside it lies."""
    STREETS = "streets"
    """The street network: how far each is from the nearest street (weak in dense streets)."""


_AGAINST = {Basis.SAME_CODE: ("已加载的同编码要素", "the same features already loaded"),
            Basis.PARENT: ("其所属上级区域", "their parent areas"),
            Basis.STREETS: ("街道", "the streets")}


@dataclass(frozen=True)
class Fit:
    """How a sample fits the loaded data under each datum: the median distance in metres (0
    for a feature inside its parent), lower is better."""

    basis: Basis
    metres: Mapping[str, float]
    sample_size: int


def _bearing(dx: float, dy: float) -> tuple[str, str]:
    names = [("北", "north"), ("东北", "north-east"), ("东", "east"), ("东南", "south-east"),
             ("南", "south"), ("西南", "south-west"), ("西", "west"), ("西北", "north-west")]
    angle = (math.degrees(math.atan2(dx, dy)) + 360) % 360
    return names[round(angle / 45) % 8]


def datum_problem(declared: str, fit: Fit,
                  shift_m: Mapping[str, tuple[float, float]]) -> Problem | None:
    """An error when another datum fits clearly better than the declared one.

    ``shift_m``: the mean (east, north) displacement in metres from each datum's positions to
    the declared ones (:func:`shift_metres`).
    """
    medians = fit.metres
    if fit.sample_size < MIN_SAMPLE:
        return None
    best = min(medians, key=lambda d: medians[d])
    ours = medians[declared]
    if best == declared or ours < CLEARLY_BETTER * medians[best] + MIN_GAIN_M:
        return None
    east, north = shift_m[best]
    zh_dir, en_dir = _bearing(east, north)
    size = math.hypot(east, north)
    label = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}
    zh_against, en_against = _AGAINST[fit.basis]
    return Problem(None, "", "geometry", "datum_mismatch",
                   f"这些位置整体偏离{zh_against}约 {size:.0f} 米（偏{zh_dir}；中位距离 {ours:.0f} 米，"
                   f"按 {label[best]} 解读则为 {medians[best]:.0f} 米）：是否把 {label[best]} 坐标"
                   f"标成了 {label[declared]}？请加 --crs {best} 重试",
                   f"these positions sit ~{size:.0f} m {en_dir} of {en_against} (median "
                   f"{ours:.0f} m; read as {label[best]}, {medians[best]:.0f} m): "
                   f"{label[best]} labelled as {label[declared]}? re-run with --crs {best}")


def shift_metres(points: Mapping[str, npt.NDArray[np.float64]],
                 declared: str) -> dict[str, tuple[float, float]]:
    """Mean (east, north) metres from each hypothesis' positions to the declared ones, on the
    WGS84 ellipsoid."""
    ours = points[declared]
    geod = pyproj.Geod(ellps="WGS84")
    out = {}
    for datum, where in points.items():
        azimuth, _, distance = geod.inv(where[:, 0], where[:, 1], ours[:, 0], ours[:, 1])
        rad = np.radians(np.asarray(azimuth, dtype=float))
        dist = np.asarray(distance, dtype=float)
        out[datum] = (float(np.mean(dist * np.sin(rad))), float(np.mean(dist * np.cos(rad))))
    return out
