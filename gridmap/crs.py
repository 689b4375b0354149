"""Coordinate policy: store WGS84, accept CGCS2000 / GCJ-02 / BD-09, measure in metres.

Distances are measured in the CGCS2000 3-degree Gauss-Kruger zone whose central meridian is
nearest the data (:func:`gauss_kruger_crs`): within 1.5° of the meridian the projection's scale
error stays under about 0.02 %, and within the ~1° half-width of a city under 0.01 %. The zone
is chosen from the loaded data's extent, not fixed here, so another city gets its own zone.

GCJ-02 is the obfuscated datum every Chinese web map serves ("Mars coordinates"); BD-09 is
Baidu's further offset of GCJ-02. Neither is an EPSG CRS, so pyproj cannot convert them; the
forward transforms below are the published algorithm and the inverses are solved by fixed-point
iteration to well under a centimetre. CGCS2000 (EPSG:4490) differs from WGS84 by centimetres, far
below the accuracy of the data we receive, so it is taken as identical.

All functions are vectorised: they accept scalars or array-likes and return numpy arrays (or
floats for scalar input).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from gridmap.errors import InvalidInput

SRID = 4326
"""Storage CRS of every geometry."""

GK3_FIRST_EPSG, GK3_FIRST_CM, GK3_LAST_CM = 4534, 75, 135
"""EPSG:4534-4554 are "CGCS2000 / 3-degree Gauss-Kruger CM 75E" ... "CM 135E", 3° apart, with
false easting 500 km and no zone prefix (the 4513-4533 series prefixes the zone number)."""

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

ArrayLike = npt.ArrayLike
Floats = npt.NDArray[np.float64]


class InputCRS(StrEnum):
    """Coordinate systems accepted on input."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def parse_crs(value: str | None) -> InputCRS:
    """Parse a user-supplied CRS name (default WGS84); EPSG codes 4326/4490 are accepted."""
    if value is None or value == "":
        return InputCRS.WGS84
    key = value.strip().lower().replace("-", "").replace("_", "")
    aliases = {"epsg4326": "wgs84", "4326": "wgs84", "epsg4490": "cgcs2000", "4490": "cgcs2000"}
    key = aliases.get(key.replace(":", ""), key)
    try:
        return InputCRS(key)
    except ValueError:
        names = ", ".join(c.value for c in InputCRS)
        raise InvalidInput(f"未知坐标系 '{str(value)[:40]}'，可选：{names} (unknown CRS)") from None


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Kruger zone (CM series) nearest ``lon``.

    A longitude midway between two meridians goes east. China's longitudes (73.5-135.1°E)
    all fall within 1.5° of some meridian of the series; others are refused.
    """
    if not math.isfinite(lon) or not GK3_FIRST_CM - 1.5 <= lon <= GK3_LAST_CM + 1.5:
        raise InvalidInput(f"经度 {lon} 不在 CGCS2000 3度带范围内（73.5–136.5°E） "
                           f"(longitude {lon} is outside the CGCS2000 3-degree zones, 73.5-136.5°E)")
    step = min(max(math.floor(lon / 3.0 + 0.5) * 3, GK3_FIRST_CM), GK3_LAST_CM)
    return GK3_FIRST_EPSG + (step - GK3_FIRST_CM) // 3


def gauss_kruger_crs(lon: float) -> str:
    """``"EPSG:nnnn"`` of the 3-degree Gauss-Kruger zone nearest ``lon`` (``EPSG:4550`` for Shenyang)."""
    return f"EPSG:{gauss_kruger_epsg(lon)}"


def _out_of_china(lon: Floats, lat: Floats) -> npt.NDArray[np.bool_]:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """GCJ-02 minus WGS84 offset (degrees) at a WGS84 position."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, d_lon), np.where(outside, 0.0, d_lat)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError("lon and lat must have the same shape")
    return x, y


def _out(x: Floats, y: Floats) -> tuple[Any, Any]:
    if x.ndim == 0:
        return float(x), float(y)
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Forward GCJ-02 obfuscation of WGS84 positions."""
    x, y = _arrays(lon, lat)
    d_lon, d_lat = _delta(x, y)
    return _out(x + d_lon, y + d_lat)


def _invert(forward: Callable[[Floats, Floats], tuple[Any, Any]], tx: Floats, ty: Floats,
            x: Floats, y: Floats, *, tol_deg: float, steps: int) -> tuple[Any, Any]:
    """Solve forward(x, y) = (tx, ty) by fixed-point iteration from (x, y).

    The offsets vary slowly with position, so each step shrinks the error by orders of
    magnitude; a few steps reach ``tol_deg``.
    """
    for _ in range(steps):
        fx, fy = forward(x, y)
        ex, ey = np.asarray(fx) - tx, np.asarray(fy) - ty
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < tol_deg) and np.all(np.abs(ey) < tol_deg):
            break
    return _out(x, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-9) -> tuple[Any, Any]:
    """Invert GCJ-02 by fixed-point iteration (converges to ~1e-9° in a few steps)."""
    gx, gy = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, gx, gy, gx.copy(), gy.copy(), tol_deg=tol_deg, steps=30)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Baidu's BD-09 offset of GCJ-02 positions."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10) -> tuple[Any, Any]:
    """Inverse of :func:`gcj02_to_bd09`.

    Baidu's published closed-form inverse is off by up to ~0.2 m; it is used as the starting
    point and refined by fixed-point iteration so that a round trip is exact to ~1e-10°.
    """
    bx, by = _arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, bx, by, z * np.cos(theta), z * np.sin(theta),
                   tol_deg=tol_deg, steps=10)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """WGS84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """BD-09 → WGS84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: InputCRS | str) -> tuple[Any, Any]:
    """Convert positions given in any accepted input CRS to WGS84."""
    source = crs if isinstance(crs, InputCRS) else parse_crs(crs)
    if source is InputCRS.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if source is InputCRS.BD09:
        return bd09_to_wgs84(lon, lat)
    # CGCS2000 realises ITRF97 at epoch 2000.0; WGS84 (G1762) agrees within a few cm.
    x, y = _arrays(lon, lat)
    return _out(x.copy(), y.copy())


def validate_lonlat(lon: float, lat: float) -> None:
    """Reject non-finite or out-of-range geographic coordinates."""
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise InvalidInput("经纬度必须是有限数字")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InvalidInput(f"经纬度超出范围：lon={lon}, lat={lat}（lon ∈ [-180,180]，lat ∈ [-90,90]）")
