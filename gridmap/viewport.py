"""What a map view asks for, and what its zoom allows: the one parse of a WGS84 bounding box and
the one rule for how coarse geometry may be at a zoom.

Shared by the web API, the CLI and every layer that simplifies geometry for display.
"""

from __future__ import annotations

import math
import re

from gridmap.crs import validate_lonlat
from gridmap.errors import InvalidInput

BBox = tuple[float, float, float, float]
"""``(minx, miny, maxx, maxy)`` in WGS84 degrees."""
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")

EXPORT_DECIMALS = 7
"""Coordinate decimals without a zoom (an export): 1e-7° is about 1 cm."""


def parse_bbox(raw: str | None) -> BBox | None:
    """``minx,miny,maxx,maxy`` in WGS84 degrees, or None when absent or empty."""
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidInput("bbox 须为 minx,miny,maxx,maxy (bbox must be minx,miny,maxx,maxy)")
    try:
        if not all(_NUMBER.fullmatch(p.strip()) for p in parts):  # ASCII decimals: not '１', 'nan'
            raise ValueError(raw)
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox 含非数字：{raw[:40]!r} (bbox must be four numbers)") from None
    for x, y in ((minx, miny), (maxx, maxy)):
        validate_lonlat(x, y)
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox 的最小值大于最大值 (bbox min must not exceed max)")
    return minx, miny, maxx, maxy


def tolerance_deg(zoom: int) -> float:
    """Half a screen pixel at ``zoom`` in degrees: simplification below it is invisible."""
    return 360.0 / (256 * 2.0**zoom) * 0.5


def decimals(zoom: int | None) -> int:
    """Coordinate decimals that keep a tenth of a pixel at ``zoom`` (7, ~1 cm, for export)."""
    if zoom is None:
        return EXPORT_DECIMALS
    return max(1, min(EXPORT_DECIMALS, math.ceil(-math.log10(tolerance_deg(zoom) * 0.2))))
