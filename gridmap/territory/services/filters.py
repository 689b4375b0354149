"""Layer filters shared by the API and the CLI: bounding box and area codes."""

from __future__ import annotations

import re
from collections.abc import Mapping

from gridmap.crs import validate_lonlat
from gridmap.errors import InvalidInput
from gridmap.territory.repositories.layers import AreaFilter

_CODE_LENGTHS = {"district": 6, "subdistrict": 9, "community": 12}


def bbox(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """``bbox=minx,miny,maxx,maxy`` in WGS84 degrees, or None when absent."""
    raw = args.get("bbox")
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidInput("bbox 须为 minx,miny,maxx,maxy (bbox must be minx,miny,maxx,maxy)")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox 含非数字：{raw!r} (bbox must be four numbers)") from None
    for x, y in ((minx, miny), (maxx, maxy)):
        validate_lonlat(x, y)
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox 的最小值大于最大值 (bbox min must not exceed max)")
    return minx, miny, maxx, maxy


def area(args: Mapping[str, str]) -> AreaFilter:
    """Area filters ``district``, ``subdistrict``, ``community`` as official codes."""
    values: dict[str, str | None] = {}
    for name, length in _CODE_LENGTHS.items():
        raw = args.get(name)
        if raw and not re.fullmatch(rf"\d{{{length}}}", raw):
            raise InvalidInput(
                f"{name} 须为 {length} 位统计代码：{raw!r} ({name} must be a {length}-digit code)"
            )
        values[name] = raw or None
    codes = [v for v in values.values() if v]
    for shorter, longer in zip(codes, codes[1:], strict=False):
        if not longer.startswith(shorter):
            raise InvalidInput("区域代码互相矛盾 (area codes do not nest)")
    return AreaFilter(**values)
