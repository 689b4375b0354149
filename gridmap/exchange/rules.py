"""The exchange feature's light constants: who may import, export and edit, the export formats
and the names the web layer needs — kept apart from the services, which load GDAL (pyogrio) and
geopandas: a web worker loads those on its first import or export request only, not at start."""

from __future__ import annotations

from dataclasses import dataclass

from gridmap.access import Principal, Role
from gridmap.errors import Forbidden, Unauthorized

EXCHANGERS = frozenset({Role.DATA_OFFICER, Role.ADMIN})
"""Roles that import, export and edit a city's data."""
FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "csv": ".csv", "kml": ".kml"}
"""Export formats and the file suffix each is written with."""
STREETS = "streets"
"""The street layer (imported from OpenStreetMap, exported with its kind and length)."""
TOLERANCE_M2 = 10.0
"""Overlaps between grids, grids outside their community and gaps smaller than this are noise."""
IMPORT_JOB = "exchange.import"
"""The job kind of an import (or its dry run) started from the data page."""


def ensure_exchanger(principal: Principal) -> None:
    """401 for the public, 403 for a role that does not import, export or edit."""
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*EXCHANGERS):
        raise Forbidden("只有数据管理员和系统管理员可以导入、导出和编辑数据 (only data officers and "
                        "administrators import, export and edit data)")


@dataclass(frozen=True)
class FacilityFields:
    """What a facility edit may set (None: keep as it is)."""

    type: str | None = None
    name: str | None = None
    capacity: int | None = None
    hours: str | None = None
