"""Use cases on the territory: locate a point, search, describe the layers for the map."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.errors import OutsideTerritory
from gridmap.territory.repositories import lookup as territory
from gridmap.territory.repositories.layers import LAYERS
from gridmap.territory.services.layers import resident_counts_for


def locate_json(conn: psycopg.Connection, lon: float, lat: float, *, crs: str = "wgs84",
                lang: str = "zh") -> str:
    """Everything a grid worker needs to know about a WGS84 point, as JSON text.

    The document is built in SQL and passed through untouched: on the hot path Python never
    parses or re-serialises it. Raises OutsideTerritory when no grid covers the point.
    """
    body = territory.locate_json(conn, lon, lat, crs=crs, lang=lang)
    if body is None:
        district = territory.district_at(conn, lon, lat)
        where = f"（位于{district['name']}，该区网格数据尚未载入）" if district else "（不在本市辖区内）"
        raise OutsideTerritory(f"该位置不在任何网格内{where} (the point lies in no grid)")
    return body


def locate(session: Session | Connection, lon: float, lat: float, *, crs: str = "wgs84",
           lang: str = "zh") -> dict[str, Any]:
    """:func:`locate_json` as a dict, in a SQLAlchemy session's transaction (CLI, tests)."""
    conn = territory.driver_connection(session)
    found: dict[str, Any] = json.loads(locate_json(conn, lon, lat, crs=crs, lang=lang))
    return found


def locate_for(factory: sessionmaker[Session], principal: Principal, lon: float, lat: float, *,
               crs: str = "wgs84", lang: str = "zh") -> dict[str, Any]:
    """:func:`locate` for a signed-in staff member: the nearest building also carries its counts
    of vulnerable residents (aged 80+, elderly living alone) when they may see them and their
    territory holds it (:func:`~gridmap.territory.services.layers.resident_counts_for`)."""
    with factory() as session:
        found = locate(session, lon, lat, crs=crs, lang=lang)
        building = found.get("building")
        staff = resident_counts_for(principal)
        if staff is not None and isinstance(building, dict):
            counts = territory.building_counts(session, str(building["code"]), staff)
            if counts is not None:
                building.update(counts)
    return found


def locate_point(factory: sessionmaker[Session], lon: float, lat: float, *, crs: str = "wgs84",
                 lang: str = "zh") -> dict[str, Any]:
    """:func:`locate` in a session of its own (for the CLI, which holds no session)."""
    with factory() as session:
        return locate(session, lon, lat, crs=crs, lang=lang)


def search(session: Session | Connection, query: str, *, limit: int) -> list[dict[str, Any]]:
    """Search results with their bounding boxes and their shapes (GeoJSON geometries, WGS84):
    the outline of an area, a street's merged line, a building's footprint."""
    return [
        {"kind": r["kind"], "code": r["code"], "name": r["name"], "context": r["context"],
         "bbox": [r["minx"], r["miny"], r["maxx"], r["maxy"]], "geometry": r["geometry"]}
        for r in territory.search(session, query, limit)
    ]


def meta(session: Session | Connection, *, lang: str) -> dict[str, Any]:
    """Layers, facility types and the loaded extent, titled in ``lang``."""
    return {
        "layers": [
            {"name": s.name, "title": s.title_en if lang == "en" else s.title_zh,
             "minzoom": s.minzoom, "geometry": s.geometry}
            for s in LAYERS.values()
        ],
        "facility_types": facility_types(session, lang=lang),
        "extent": territory.extent(session),
    }


def facility_types(session: Session | Connection, *, lang: str) -> list[dict[str, str]]:
    """The enumerated facility types (code, name in ``lang``, colour) in display order."""
    return territory.facility_types(session, lang=lang)
