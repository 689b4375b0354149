"""Parse and validate request parameters; every failure is an InvalidInput with a clear message."""

from __future__ import annotations

import math
from collections.abc import Mapping

from gridmap import codes, viewport
from gridmap.crs import InputCRS, parse_crs, to_wgs84, validate_lonlat
from gridmap.errors import InvalidInput


def number(args: Mapping[str, str], name: str) -> float:
    """A required finite float parameter."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        raise InvalidInput(f"缺少参数 {name} (missing parameter '{name}')")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"参数 {name} 不是数字：{raw!r} ('{name}' must be a number)") from None
    if not math.isfinite(value):
        raise InvalidInput(f"参数 {name} 必须是有限数字 ('{name}' must be finite)")
    return value


def integer(args: Mapping[str, str], name: str, *, default: int, lo: int, hi: int) -> int:
    """An optional integer parameter within [lo, hi]."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"参数 {name} 必须是整数 ('{name}' must be an integer)") from None
    if not lo <= value <= hi:
        raise InvalidInput(f"参数 {name} 必须在 {lo}–{hi} 之间 ('{name}' must be in {lo}..{hi})")
    return value


def point(args: Mapping[str, str]) -> tuple[float, float, InputCRS]:
    """``lon``, ``lat`` and ``crs`` → a WGS84 (lon, lat) and the CRS it was given in."""
    lon, lat = number(args, "lon"), number(args, "lat")
    crs = parse_crs(args.get("crs"))
    validate_lonlat(lon, lat)
    wlon, wlat = to_wgs84(lon, lat, crs)
    return float(wlon), float(wlat), crs


def bbox(args: Mapping[str, str]) -> viewport.BBox | None:
    """``bbox=minx,miny,maxx,maxy`` in WGS84 degrees, or None when absent."""
    return viewport.parse_bbox(args.get("bbox"))


def area(args: Mapping[str, str]) -> codes.AreaFilter:
    """Area filters ``district``, ``subdistrict``, ``community`` as nesting official codes."""
    return codes.area_filter(args)
