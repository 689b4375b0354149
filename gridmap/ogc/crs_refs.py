"""The coordinate reference systems offered by OGC API Features (Part 2), by URI.

Geometries are stored in WGS84 longitude/latitude (CRS84). EPSG:4326 and EPSG:4490 (CGCS2000,
taken as identical to WGS84, see :mod:`gridmap.crs`) have latitude first, as their EPSG
definitions say: answers in them swap the axes. The city's CGCS2000 3-degree Gauss-Kruger zone is
chosen from the loaded territory's extent (:func:`gridmap.crs.gauss_kruger_epsg`, the coverage
code's choice), never fixed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gridmap.errors import InvalidInput

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
STORAGE_SRID = 4326
LAT_LON = frozenset({4326, 4490})
"""Geographic CRSs offered whose EPSG axis order is latitude, longitude."""
_EPSG = re.compile(r"^(?:\[?EPSG:(\d{4,6})\]?|https?://www\.opengis\.net/def/crs/EPSG/0/(\d{4,6}))$",
                   re.IGNORECASE)
_CRS84 = re.compile(r"^(?:\[?OGC:CRS84\]?|CRS84|https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class CrsRef:
    """One offered CRS: its URI, the SRID PostGIS transforms to, and whether latitude is first.

    ``epsg`` is None for CRS84 (WGS84 with longitude first, the storage CRS)."""

    uri: str
    epsg: int | None

    @property
    def srid(self) -> int:
        """SRID for ST_Transform (the geographic ones share the storage SRID)."""
        return STORAGE_SRID if self.epsg is None or self.epsg in LAT_LON else self.epsg

    @property
    def lat_lon(self) -> bool:
        """Whether coordinates are written latitude first."""
        return self.epsg in LAT_LON

    @property
    def projected(self) -> bool:
        """Whether coordinates are metres in a projection (fewer decimals suffice)."""
        return self.srid != STORAGE_SRID

    @property
    def decimals(self) -> int:
        """Decimals written: 7 for degrees (~1 cm), 3 for metres (1 mm)."""
        return 3 if self.projected else 7


DEFAULT = CrsRef(CRS84, None)


def offered(gauss_kruger_epsg: int) -> tuple[CrsRef, ...]:
    """Every CRS a collection offers: CRS84 (storage), EPSG:4326, EPSG:4490, the city's zone."""
    return (DEFAULT, *(CrsRef(EPSG_URI.format(code), code)
                       for code in (4326, 4490, gauss_kruger_epsg)))


def parse(value: str | None, choices: tuple[CrsRef, ...], name: str) -> CrsRef:
    """The offered CRS that ``value`` names (a URI, ``EPSG:nnnn`` or its safe CURIE
    ``[EPSG:nnnn]``); CRS84 when absent; InvalidInput listing the offered ones otherwise."""
    if value is None or not value.strip():
        return DEFAULT
    text = value.strip()
    if _CRS84.match(text):
        return DEFAULT
    found = _EPSG.match(text)
    if found:
        code = int(found.group(1) or found.group(2))
        for ref in choices:
            if ref.epsg == code:
                return ref
    listed = ", ".join(ref.uri for ref in choices)
    raise InvalidInput(f"参数 {name} 的坐标系未提供：{text[:60]!r}；可选：{listed} "
                       f"(crs not offered in '{name}'; offered: {listed})")
