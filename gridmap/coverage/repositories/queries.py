"""Reads of stored coverage runs: current runs, per-building bands, per-area rates, histograms.

Nothing here computes coverage; it reads what ``gridmap coverage compute`` stored. Features are
built as JSON text by PostgreSQL and streamed (as the territory layers are).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import (
    Float,
    Numeric,
    Select,
    String,
    case,
    cast,
    column,
    func,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Session

from gridmap import viewport
from gridmap.codes import Level, level_of
from gridmap.crs import SRID
from gridmap.db import stream_texts as stream_texts  # re-exported: services stream through here
from gridmap.models import Building, Facility
from gridmap.sqlfiles import sql

BBox = tuple[float, float, float, float]

_cb = table("coverage_building", column("run_id"), column("building_id"),
            column("distance_m", Float()), column("facility_id"), column("covered"))


@dataclass(frozen=True)
class Run:
    """The current run of one facility type and circle."""

    id: int
    facility_type: str
    circle: str
    max_distance_m: float
    near_miss_factor: float
    metric_srid: int
    """EPSG code of the CRS the run's distances were measured in."""

    @property
    def near_miss_m(self) -> float:
        """Distances up to this (and above ``max_distance_m``) are near misses."""
        return self.max_distance_m * self.near_miss_factor


def facility_types(session: Session, *, lang: str) -> list[dict[str, Any]]:
    """Facility types that have coverage rules: code, name, colour, in display order."""
    rows = session.execute(text(
        "SELECT ft.code, CASE WHEN :en THEN ft.name_en ELSE ft.name_zh END AS name, ft.color "
        "FROM facility_type ft "
        "WHERE EXISTS (SELECT 1 FROM coverage_rule r WHERE r.facility_type = ft.code) "
        "ORDER BY ft.sort_order, ft.code"), {"en": lang == "en"}).mappings().all()
    return [dict(r) for r in rows]


def circles(session: Session, *, lang: str) -> list[dict[str, Any]]:
    """Life circles: code, name, walk minutes and default distance, shortest first."""
    rows = session.execute(text(
        "SELECT code, CASE WHEN :en THEN name_en ELSE name_zh END AS name, walk_minutes, "
        "max_distance_m FROM life_circle ORDER BY walk_minutes"), {"en": lang == "en"}
    ).mappings().all()
    return [dict(r) for r in rows]


def current_runs(session: Session, *, lang: str, area: str | None) -> list[dict[str, Any]]:
    """Every current run with its facility type, circle and the totals of ``area`` (a
    district, sub-district or community code; None: every district)."""
    level = (level_of(area) if area else None) or Level.DISTRICT
    rows = session.execute(sql("coverage/runs"), {"en": lang == "en", "level": str(level),
                                                  "area": area or ""}).mappings().all()
    return [dict(r) for r in rows]


def current_run(session: Session, facility_type: str, circle: str, *,
                near_miss_factor: float) -> Run | None:
    """The current run of a facility type and circle, or None (``near_miss_factor`` for runs
    stored before the factor was recorded)."""
    row = session.execute(text(
        "SELECT id, max_distance_m, coalesce((params->>'near_miss_factor')::float, :f) AS f, "
        "metric_srid FROM coverage_run WHERE facility_type = :t AND circle = :c AND current"),
        {"t": facility_type, "c": circle, "f": near_miss_factor}).one_or_none()
    if row is None:
        return None
    return Run(int(row.id), facility_type, circle, float(row.max_distance_m), float(row.f),
               int(row.metric_srid))


def _band(run: Run) -> Any:
    return case((_cb.c.distance_m <= run.max_distance_m, literal("covered")),
                (_cb.c.distance_m <= run.near_miss_m, literal("near_miss")),
                else_=literal("far"))


def building_features(run: Run, *, area: str | None, bbox: BBox | None, zoom: int | None,
                      limit: int | None) -> Select[str]:
    """One GeoJSON Feature (JSON text) per building of the run within ``area`` (a code prefix;
    None: all), with distance, band, facility."""
    geom: Any = Building.geom
    if zoom is not None and zoom < 17:
        geom = func.ST_SimplifyPreserveTopology(geom, viewport.tolerance_deg(zoom))
    props = func.json_build_object(
        literal("code"), Building.code, literal("name"), Building.name,
        literal("grid_code"), Building.grid_code, literal("residents"), Building.residents,
        literal("elderly"), Building.aged_60_plus,
        literal("distance_m"), func.round(cast(_cb.c.distance_m, Numeric()), 1),
        literal("band"), _band(run),
        literal("facility_code"), Facility.code, literal("facility"), Facility.name)
    feature = func.json_build_object(
        literal("type"), literal("Feature"), literal("id"), Building.code,
        literal("geometry"), cast(func.ST_AsGeoJSON(geom, viewport.decimals(zoom)), JSON()),
        literal("properties"), props)
    stmt = (select(cast(feature, String))
            .select_from(_cb.join(Building, Building.id == _cb.c.building_id)
                         .outerjoin(Facility, Facility.id == _cb.c.facility_id))
            .where(_cb.c.run_id == run.id))
    if area:
        stmt = stmt.where(Building.grid_code.startswith(area, autoescape=True))
    if bbox is not None:
        stmt = stmt.where(Building.geom.op("&&")(func.ST_MakeEnvelope(*bbox, SRID)))
    stmt = stmt.order_by(Building.id)
    return stmt.limit(limit) if limit is not None else stmt


def building_rows(session: Session, run: Run, *, area: str | None,
                  batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every building of the run within ``area`` (a code prefix; None: all) as a flat row for
    CSV export, streamed."""
    result = session.execute(sql("coverage/building_rows").execution_options(yield_per=batch),
                             {"run": run.id, "d": run.max_distance_m, "near": run.near_miss_m,
                              "area": area or ""})
    try:
        for row in result.mappings():
            yield dict(row)
    finally:
        result.close()


def areas(session: Session, run: Run, level: Level, *, parent: str | None) -> list[dict[str, Any]]:
    """Per-area totals and rates of the run at ``level``, worst elderly coverage first."""
    rows = session.execute(sql("coverage/areas"),
                           {"run": run.id, "level": str(level), "parent": parent or ""})
    return [dict(r) for r in rows.mappings()]


def area_features(session: Session, run: Run, level: Level, *, parent: str | None,
                  bbox: BBox | None, zoom: int | None) -> Iterator[str]:
    """Area polygons of the run at ``level`` with their rates, as GeoJSON Feature texts."""
    tol = viewport.tolerance_deg(zoom) if zoom is not None and zoom < 17 else 0.0
    env = bbox or (-180.0, -90.0, 180.0, 90.0)
    result = session.execute(sql("coverage/area_features").execution_options(yield_per=500), {
        "run": run.id, "level": str(level), "parent": parent or "", "tol": tol,
        "decimals": viewport.decimals(zoom), "minx": env[0], "miny": env[1], "maxx": env[2],
        "maxy": env[3]})
    try:
        for (text_,) in result:
            yield text_
    finally:
        result.close()


def distance_histogram(session: Session, run: Run, *, area: str | None, bin_m: float,
                       bins: int) -> list[dict[str, Any]]:
    """Buildings, residents and elderly within ``area`` (a code prefix; None: all) per
    walking-distance bin; ``bin`` -1 = none reached."""
    rows = session.execute(sql("coverage/distances"),
                           {"run": run.id, "bin_m": bin_m, "bins": bins, "area": area or ""})
    return [dict(r) for r in rows.mappings()]


def catchment_inputs(session: Session, run: Run, area: BBox,
                     ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Street nodes and edges in ``area`` (WGS84 envelope) and the run's facilities in it."""
    params = {"minx": area[0], "miny": area[1], "maxx": area[2], "maxy": area[3],
              "t": run.facility_type}
    edges = _frame(session, "coverage/catchment_edges", params,
                   ["source", "target", "length_m"])
    nodes = _frame(session, "coverage/catchment_nodes", params, ["node_id"])
    facilities = _frame(session, "coverage/catchment_facilities", params, ["facility_id"])
    return nodes, edges, facilities


def _frame(session: Session, name: str, params: dict[str, Any],
           columns: list[str]) -> gpd.GeoDataFrame:
    rows = session.execute(sql(name), params).all()
    data = {col: [r[i] for r in rows] for i, col in enumerate(columns)}
    geoms = shapely.from_wkb(np.array([bytes(r[-1]) for r in rows], dtype=object))
    return gpd.GeoDataFrame(data, geometry=geoms, crs=f"EPSG:{SRID}")


def facilities_in(session: Session, facility_type: str, bbox: BBox) -> list[dict[str, Any]]:
    """Facilities of one type within a WGS84 envelope: code, name, lon, lat (by code)."""
    stmt = (select(Facility.code, Facility.name, func.ST_X(Facility.geom).label("lon"),
                   func.ST_Y(Facility.geom).label("lat"))
            .where(Facility.type == facility_type,
                   Facility.geom.op("&&")(func.ST_MakeEnvelope(*bbox, SRID)))
            .order_by(Facility.code))
    return [dict(r) for r in session.execute(stmt).mappings()]
