"""SQL for the GB 50180 audit and for siting / what-if inputs (buildings with residents).

The audit reads stored *current* coverage runs only; nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.codes import Level
from gridmap.coverage.repositories.compute import Envelope
from gridmap.crs import SRID
from gridmap.sqlfiles import sql

LEVELS: tuple[Level, ...] = (Level.COMMUNITY, Level.GRID)
"""The levels ``audit_rows.sql`` reads areas of."""


_BUILDINGS = ("SELECT id, grid_code, residents, aged_60_plus, ST_AsBinary(ST_PointOnSurface(geom)) "
              "FROM building WHERE grid_code LIKE %(prefix)s ")
_WITHIN = ("AND geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326) "
           "AND ST_PointOnSurface(geom) && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, "
           "%(maxy)s, 4326) ")


def buildings(session: Session, *, area_code: str | None = None,
              envelope: Envelope | None = None) -> gpd.GeoDataFrame:
    """Buildings as points on their footprints, with residents and elderly (60+), by id.

    ``area_code`` (a district, sub-district, community or grid code) keeps the buildings whose
    grid code starts with it; ``envelope`` (WGS84) those whose point lies within it (the
    footprint test lets the spatial index find them).
    """
    conn = session.connection().connection.driver_connection
    assert conn is not None
    statement = _BUILDINGS + (_WITHIN if envelope is not None else "") + "ORDER BY id"
    box = dict(zip(("minx", "miny", "maxx", "maxy"), map(float, envelope or (0, 0, 0, 0)),
                   strict=True))
    rows = conn.execute(statement, {"prefix": (area_code or "") + "%", **box}).fetchall()
    geoms = shapely.from_wkb(np.array([r[4] for r in rows], dtype=object))
    return gpd.GeoDataFrame(
        {"building_id": np.array([r[0] for r in rows], dtype=np.int64),
         "grid_code": [r[1] for r in rows],
         "residents": np.array([r[2] for r in rows], dtype=np.int64),
         "elderly": np.array([r[3] for r in rows], dtype=np.int64)},
        geometry=geoms, crs=f"EPSG:{SRID}")


def required_pairs(session: Session) -> list[tuple[str, str, int | None]]:
    """(facility_type, circle, current run id or None) for every rule the standard requires."""
    rows = session.execute(text(
        "SELECT r.facility_type, r.circle, run.id FROM coverage_rule r "
        "JOIN life_circle c ON c.code = r.circle "
        "LEFT JOIN coverage_run run ON run.facility_type = r.facility_type "
        "  AND run.circle = r.circle AND run.current "
        "WHERE r.required ORDER BY c.walk_minutes, r.facility_type")).all()
    return [(str(t), str(c), None if run is None else int(run)) for t, c, run in rows]


def audit_rows(session: Session, *, level: Level, prefix: str = "",
               with_geometry: bool = False) -> Generator[dict[str, Any], None, None]:
    """Stream one row per area of ``level`` and required (facility type, circle) pair.

    Stored totals are NULL when the pair has no current run, or the area had no building in it;
    ``geometry`` is NULL unless ``with_geometry``.
    """
    statement = sql("coverage/audit_rows").execution_options(yield_per=1000)
    result = session.execute(statement, {"level": str(level), "prefix": prefix + "%",
                                         "with_geometry": with_geometry})
    try:
        for row in result.mappings():
            yield dict(row)
    finally:  # a consumer may stop early: release the server-side cursor
        result.close()
