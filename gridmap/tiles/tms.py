"""The one tile matrix set served: OGC WebMercatorQuad (EPSG:3857, 256-pixel tiles, XYZ order).

Pure: tile addresses, their bounds and the simplification tolerance of a zoom. Identifiers and
URIs are those of OGC Two Dimensional Tile Matrix Set 2.0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gridmap.errors import NotFound

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_URI = "http://www.opengis.net/def/crs/EPSG/0/3857"
MAX_ZOOM = 24
"""The deepest level the matrix set defines (OGC's WebMercatorQuad goes to 24)."""
EXTENT = 4096
"""Tile coordinate units per side (the MVT default)."""
BUFFER = 64
"""Units drawn past each edge, so strokes and labels meet seamlessly across tiles."""
HALF_WORLD_M = 20037508.342789244
SIMPLIFY_PX = 0.5
"""Simplification tolerance in screen pixels of a 256-pixel tile: below it, invisible."""
MAX_COORD_CHARS = 8
"""Longer than any valid z, x or y (2^24 has 8 digits): parsed no further."""


@dataclass(frozen=True)
class TileAddress:
    """One tile: zoom ``z``, column ``x`` (west to east), row ``y`` (north to south)."""

    z: int
    x: int
    y: int


def parse(z: str, x: str, y: str, *, minzoom: int, maxzoom: int) -> TileAddress:
    """The tile at text coordinates; NotFound when they are not digits, lie outside the matrix
    set, or outside the tileset's zooms ``minzoom``–``maxzoom``."""
    if not all(_is_number(v) for v in (z, x, y)):
        raise NotFound(f"瓦片坐标无效：{_shown(z, x, y)} (tile coordinates must be whole numbers)")
    tile = TileAddress(int(z), int(x), int(y))
    if tile.z > MAX_ZOOM or tile.x >= 2**tile.z or tile.y >= 2**tile.z:
        raise NotFound(f"瓦片 {tile.z}/{tile.x}/{tile.y} 不在 {TMS_ID} 范围内 "
                       f"(tile out of range: x and y must be below 2^z, z at most {MAX_ZOOM})")
    if not minzoom <= tile.z <= maxzoom:
        raise NotFound(f"该图层只提供第 {minzoom}–{maxzoom} 级瓦片 "
                       f"(tile out of range: this tileset has zoom levels {minzoom}-{maxzoom})")
    return tile


def _is_number(text: str) -> bool:
    return 0 < len(text) <= MAX_COORD_CHARS and text.isascii() and text.isdigit()


def _shown(*parts: str) -> str:
    return "/".join(p[:MAX_COORD_CHARS + 2] for p in parts)


def tile_width_m(z: int) -> float:
    """A tile's side in EPSG:3857 metres at zoom ``z``."""
    return 2 * HALF_WORLD_M / (1 << z)


def simplify_tolerance_m(z: int) -> float:
    """Half a screen pixel at zoom ``z``, in EPSG:3857 metres (for ST_Simplify before
    ST_AsMVTGeom, which snaps to the tile grid but keeps every vertex that survives it)."""
    return tile_width_m(z) / 256 * SIMPLIFY_PX


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """The tiles at zoom ``z`` that cover a WGS84 box: (min x, min y, max x, max y), inclusive."""
    west, south, east, north = bounds
    x0, y1 = _tile_of(west, south, z)
    x1, y0 = _tile_of(east, north, z)
    return x0, y0, x1, y1


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat = max(-85.05112878, min(85.05112878, lat))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)
