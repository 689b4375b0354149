"""Queries on the territory: locate a point, search by name or code, the loaded extent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from gridmap.models import District, Grid
from gridmap.repositories._sql import sql


def locate_json(session: Session | Connection, lon: float, lat: float, *, crs: str,
                lang: str) -> str | None:
    """The locate answer for a WGS84 point as JSON text built by PostgreSQL, or None outside
    every grid. ``crs`` is echoed in the answer; ``lang`` picks department names."""
    params = {"lon": lon, "lat": lat, "crs": crs, "lang": lang}
    body: str | None = session.execute(sql("locate"), params).scalar()
    return body


def district_at(session: Session | Connection, lon: float, lat: float) -> dict[str, str] | None:
    """The district covering a point (code, name), or None."""
    row = session.execute(sql("district_at"), {"lon": lon, "lat": lat}).mappings().first()
    return dict(row) if row else None


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session | Connection, query: str, limit: int) -> list[dict[str, Any]]:
    """Territory units, buildings and facilities whose name contains or code starts with query."""
    q = query.strip()
    params = {
        "pattern": f"%{_like_escape(q)}%",
        "prefix": f"{q}%" if q.isdigit() else None,
        "exact": q,
        "limit": limit,
    }
    return [dict(r) for r in session.execute(sql("search"), params).mappings()]


def extent(session: Session | Connection) -> tuple[float, float, float, float] | None:
    """Bounding box of the loaded grids, else of the districts, else None."""
    for model in (Grid, District):
        box = session.execute(select(func.ST_Extent(model.geom))).scalar_one()
        if box:
            coords = box[box.index("(") + 1 : box.index(")")].replace(",", " ").split()
            minx, miny, maxx, maxy = (float(c) for c in coords)
            return minx, miny, maxx, maxy
    return None
