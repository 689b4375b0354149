"""Queries on the territory: locate a point, search by name or code, the loaded extent."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from gridmap.access import Principal
from gridmap.models import Building, District, FacilityType, Grid
from gridmap.sqlfiles import pyformat, sql
from gridmap.territory.repositories.layers import VULNERABLE, covers


def locate_json(conn: psycopg.Connection, lon: float, lat: float, *, crs: str,
                lang: str) -> str | None:
    """The locate answer for a WGS84 point as JSON text built by PostgreSQL, or None outside
    every grid. ``crs`` is echoed in the answer; ``lang`` picks department names.

    Takes a psycopg connection: this is the hot path, run as a prepared statement.
    """
    params = {"lon": lon, "lat": lat, "crs": crs, "lang": lang}
    row = conn.execute(pyformat("territory/locate"), params, prepare=True).fetchone()
    return None if row is None else str(row[0])


def district_at(conn: psycopg.Connection, lon: float, lat: float) -> dict[str, str] | None:
    """The district covering a point (code, name), or None."""
    row = conn.execute(pyformat("territory/district_at"), {"lon": lon, "lat": lat}).fetchone()
    return None if row is None else {"code": row[0], "name": row[1]}


def driver_connection(session: Session | Connection) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy session or connection (same transaction)."""
    conn = session.connection() if isinstance(session, Session) else session
    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError("gridmap needs the psycopg 3 driver (postgresql+psycopg://)")
    return driver


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session | Connection, query: str, limit: int) -> list[dict[str, Any]]:
    """Territory units, streets, buildings and facilities whose name contains (or code starts
    with) query, each with its GeoJSON geometry."""
    q = query.strip()
    params = {
        "pattern": f"%{_like_escape(q)}%",
        "prefix": f"{q}%" if q.isascii() and q.isdigit() else None,
        "exact": q,
        "limit": limit,
    }
    return [dict(r) for r in session.execute(sql("territory/search"), params).mappings()]


def extent(session: Session | Connection) -> tuple[float, float, float, float] | None:
    """Bounding box of the loaded grids, else of the districts, else None."""
    for model in (Grid, District):
        box = session.execute(select(func.ST_Extent(model.geom))).scalar_one()
        if box:
            coords = box[box.index("(") + 1 : box.index(")")].replace(",", " ").split()
            minx, miny, maxx, maxy = (float(c) for c in coords)
            return minx, miny, maxx, maxy
    return None


def facility_types(session: Session | Connection, *, lang: str) -> list[dict[str, str]]:
    """The enumerated facility types (code, name in ``lang``, colour) in display order."""
    name = FacilityType.name_en if lang == "en" else FacilityType.name_zh
    rows = session.execute(select(FacilityType.code, name.label("name"), FacilityType.color)
                           .order_by(FacilityType.sort_order)).mappings()
    return [dict(r) for r in rows]


def building_counts(session: Session, code: str, principal: Principal) -> dict[str, int] | None:
    """Counts of vulnerable residents of building ``code`` if the principal's territory holds
    it (filtered in SQL, as the layers are), else None."""
    row = session.execute(
        select(*[col.label(name) for name, col in VULNERABLE])
        .where(Building.code == code, covers(principal, Building.grid_code))).mappings().first()
    return None if row is None else {k: int(v) for k, v in row.items()}
