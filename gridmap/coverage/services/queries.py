"""Read stored coverage runs for the coverage page, its API and exports.

Everything here reads what ``gridmap coverage compute`` stored, except the walking catchments,
which are drawn on demand for the facilities in and near a small bounding box only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyproj
import shapely
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.analysis import network
from gridmap.codes import Level, level_of
from gridmap.coverage.repositories import queries as repo
from gridmap.coverage.repositories.queries import BBox, Run
from gridmap.coverage.services import readers
from gridmap.coverage.services.compute import MAX_SNAP_M, NEAR_MISS_FACTOR
from gridmap.crs import SRID
from gridmap.errors import InvalidInput, NotFound
from gridmap.writers import csv_rows, feature, feature_collection

__all__ = ["BBox", "Run"]  # the types handlers pass back in

HISTOGRAM_BIN_M = 100.0
HISTOGRAM_BINS = 20  # 100 m bins to 2 km
CATCHMENT_MAX_BBOX_M = 5000.0
BUILDING_CSV_COLUMNS = ["building_code", "building_name", "address", "grid_code", "residents",
                        "elderly", "distance_m", "band", "facility_code", "facility_name",
                        "lon", "lat"]
AREA_CSV_COLUMNS = ["code", "name", "buildings", "buildings_covered", "residents",
                    "residents_covered", "residents_rate", "elderly", "elderly_covered",
                    "elderly_rate", "elderly_uncovered"]
_GEOD = pyproj.Geod(ellps="WGS84")


def compute_command(facility_type: str, circle: str) -> str:
    """The CLI command that computes a run."""
    return f"gridmap coverage compute --type {facility_type} --circle {circle}"


def check_rule(session: Session, facility_type: str, circle: str) -> None:
    """InvalidInput naming the choices when the facility type or the circle is unknown."""
    types = [t["code"] for t in repo.facility_types(session, lang="zh")]
    circles = [c["code"] for c in repo.circles(session, lang="zh")]
    problems = []
    if facility_type not in types:
        problems.append(f"未知设施类型 {facility_type!r}；可选：{', '.join(types)} "
                        "(unknown facility type)")
    if circle not in circles:
        problems.append(f"未知生活圈 {circle!r}；可选：{', '.join(circles)} (unknown circle)")
    if problems:
        raise InvalidInput("；".join(problems))


def resolve_run(session: Session, facility_type: str, circle: str) -> Run:
    """The current run of a facility type and circle: 400 if either is unknown, 404 if the run
    is not computed yet (the message names the command that computes it)."""
    check_rule(session, facility_type, circle)
    run = repo.current_run(session, facility_type, circle, near_miss_factor=NEAR_MISS_FACTOR)
    if run is None:
        raise NotFound(f"尚未计算该覆盖分析，请运行：{compute_command(facility_type, circle)} "
                       "(no coverage run yet; compute it with this command)")
    return run


def _rate(covered: int, total: int) -> float | None:
    return covered / total if total else None


def runs(session: Session, principal: Principal, *, lang: str) -> list[dict[str, Any]]:
    """Current runs with the totals and rates of the principal's area, JSON-ready."""
    out = []
    for row in repo.current_runs(session, lang=lang, area=readers.scope(principal)):
        out.append({**row, "computed_at": row["computed_at"].isoformat(),
                    "seconds": round(float(row["seconds"]), 3),
                    "residents_rate": _rate(row["residents_covered"], row["residents"]),
                    "elderly_rate": _rate(row["elderly_covered"], row["elderly"]),
                    "elderly_uncovered": row["elderly"] - row["elderly_covered"],
                    "metric_crs": f"EPSG:{row['metric_srid']}",
                    "command": compute_command(row["facility_type"], row["circle"])})
    return out


def choices(session: Session, principal: Principal, *, lang: str) -> dict[str, Any]:
    """Facility types with rules and the life circles, for the page's pickers, and the area the
    principal reads (``area``: None for the whole city) and whether they may plan."""
    return {"area": readers.scope(principal), "planner": principal.has(*readers.PLANNERS),
            "types": repo.facility_types(session, lang=lang),
            "circles": repo.circles(session, lang=lang)}


def buildings_geojson(factory: sessionmaker[Session], principal: Principal, run: Run, *,
                      area: str | None, bbox: BBox | None, zoom: int | None,
                      cap: int | None) -> Iterator[str]:
    """The run's buildings within ``area`` (default: the principal's) as a streamed
    FeatureCollection (at most ``cap`` with ``zoom``); access is checked before streaming."""
    stmt = repo.building_features(run, area=readers.area(principal, area), bbox=bbox, zoom=zoom,
                                  limit=cap + 1 if cap is not None else None)
    return _stream_features(factory, stmt, cap)


def _stream_features(factory: sessionmaker[Session], stmt: Select[str],
                     cap: int | None) -> Iterator[str]:
    with factory() as session:
        yield from feature_collection(repo.stream_texts(session, stmt), cap=cap)


def buildings_csv(factory: sessionmaker[Session], principal: Principal, run: Run, *,
                  area: str | None) -> Iterator[str]:
    """The run's buildings within ``area`` (default: the principal's) as CSV (UTF-8 with BOM,
    so spreadsheet programs read Chinese); access is checked before streaming."""
    return _stream_buildings_csv(factory, run, readers.area(principal, area))


def _stream_buildings_csv(factory: sessionmaker[Session], run: Run,
                          area: str | None) -> Iterator[str]:
    with factory() as session:
        yield from csv_rows(BUILDING_CSV_COLUMNS, repo.building_rows(session, run, area=area))


def areas(session: Session, principal: Principal, run: Run, level: Level, *,
          parent: str | None) -> list[dict[str, Any]]:
    """Rows of one level within ``parent`` (default: the principal's area), worst first, each
    with its bbox ``[minx, miny, maxx, maxy]``."""
    out = []
    for row in repo.areas(session, run, level, parent=readers.area(principal, parent)):
        box = [row.pop(k) for k in ("minx", "miny", "maxx", "maxy")]
        row["bbox"] = None if box[0] is None else [round(float(v), 6) for v in box]
        out.append(row)
    return out


def areas_geojson(factory: sessionmaker[Session], principal: Principal, run: Run, level: Level,
                  *, parent: str | None, bbox: BBox | None, zoom: int | None) -> Iterator[str]:
    """Area polygons within ``parent`` (default: the principal's area) with rates as a streamed
    FeatureCollection; access is checked before streaming."""
    return _stream_areas(factory, run, level, readers.area(principal, parent), bbox, zoom)


def _stream_areas(factory: sessionmaker[Session], run: Run, level: Level, parent: str | None,
                  bbox: BBox | None, zoom: int | None) -> Iterator[str]:
    with factory() as session:
        yield from feature_collection(
            repo.area_features(session, run, level, parent=parent, bbox=bbox, zoom=zoom))


def areas_csv(rows: list[dict[str, Any]]) -> Iterator[str]:
    """Area rows as CSV (UTF-8 with BOM)."""
    return csv_rows(AREA_CSV_COLUMNS, rows)


def distances(session: Session, principal: Principal, run: Run, *,
              area: str | None) -> dict[str, Any]:
    """Histogram of walking distances (100 m bins to 2 km) plus the buildings not reached,
    within ``area`` (default: the principal's)."""
    rows = repo.distance_histogram(session, run, area=readers.area(principal, area),
                                   bin_m=HISTOGRAM_BIN_M, bins=HISTOGRAM_BINS)
    return {"bin_m": HISTOGRAM_BIN_M, "max_distance_m": run.max_distance_m,
            "near_miss_m": run.near_miss_m,
            "bins": [r for r in rows if r["bin"] >= 0],
            "unreached": next(r for r in rows if r["bin"] < 0)}


def catchment_bbox(bbox: BBox | None) -> BBox:
    """Check a catchment bbox is given and at most 5 km on each side."""
    if bbox is None:
        raise InvalidInput("缺少参数 bbox (parameter 'bbox' is required)")
    minx, miny, maxx, maxy = bbox
    width = _GEOD.inv(minx, (miny + maxy) / 2, maxx, (miny + maxy) / 2)[2]
    height = _GEOD.inv(minx, miny, minx, maxy)[2]
    if max(width, height) > CATCHMENT_MAX_BBOX_M:
        raise InvalidInput(f"范围过大（{max(width, height) / 1000:.1f} 公里），步行范围最多 "
                           f"{CATCHMENT_MAX_BBOX_M / 1000:.0f} 公里见方，请放大地图 "
                           "(bbox too large for catchments; zoom in)")
    return bbox


def catchments_geojson(session: Session, principal: Principal, run: Run, bbox: BBox) -> str:
    """Street pieces within the run's walking limit of its facilities, clipped to ``bbox``.

    Only the streets and facilities within the limit of the bbox are loaded: any walk of at
    most the limit that ends inside the bbox stays within that margin. Measured in the run's
    own metric CRS, so the pieces agree with the run's stored distances. Any coverage reader
    may draw them anywhere: they are made of the public street and facility layers only.
    """
    readers.scope(principal)
    area = _expand(bbox, run.max_distance_m)
    nodes, edges, facilities = repo.catchment_inputs(session, run, area)
    if edges.empty or facilities.empty:
        return "".join(feature_collection([]))
    graph = network.build_graph(nodes, edges, crs=f"EPSG:{run.metric_srid}")
    sources = network.snap(graph, facilities, max_snap_m=MAX_SNAP_M)
    pieces = network.catchment_edges(graph, sources, max_distance_m=run.max_distance_m)
    pieces = pieces.to_crs(SRID).clip(shapely.box(*bbox))
    geoms = np.asarray(pieces.geometry.array, dtype=object)
    geoms = shapely.set_precision(geoms[~shapely.is_empty(geoms)], 1e-6)
    texts = shapely.to_geojson(geoms).tolist()
    return "".join(feature_collection(feature(geometry=t, properties={}) for t in texts))


def _expand(bbox: BBox, margin_m: float) -> BBox:
    minx, miny, maxx, maxy = bbox
    dlat = margin_m / 110_574.0
    dlon = margin_m / (111_320.0 * math.cos(math.radians(max(abs(miny), abs(maxy)))))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def facilities(session: Session, principal: Principal, run: Run, *, area: str | None,
               margin_m: float = 500.0) -> list[dict[str, Any]]:
    """The run's facility type within ``area``'s envelope widened by ``margin_m`` (facilities
    just outside an area serve it too): code, name, lon, lat."""
    level = level_of(area) if area else None
    rows = areas(session, principal, run, level or Level.DISTRICT, parent=area)
    boxes = [r["bbox"] for r in rows if r["bbox"] is not None]
    if not boxes:
        return []
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
           max(b[3] for b in boxes))
    return repo.facilities_in(session, run.facility_type, _expand(box, margin_m))
