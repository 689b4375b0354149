"""Read stored coverage runs for the coverage page, its API and exports.

Everything here reads what ``gridmap coverage compute`` stored, except the walking catchments,
which are drawn on demand for the facilities in and near a small bounding box only.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyproj
import shapely
from sqlalchemy.orm import Session, sessionmaker

from gridmap.analysis import network
from gridmap.coverage.repositories import queries as repo
from gridmap.coverage.repositories.queries import LEVELS, BBox, Run
from gridmap.coverage.services.compute import MAX_SNAP_M
from gridmap.crs import METRIC_CRS, SRID
from gridmap.errors import InvalidInput, NotFound
from gridmap.territory.repositories.layers import feature_collection, stream_features

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


def resolve_run(session: Session, args: Mapping[str, str]) -> Run:
    """The current run named by ``type`` and ``circle``: 400 if unknown, 404 if not computed."""
    facility_type, circle = args.get("type", "").strip(), args.get("circle", "").strip()
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
    run = repo.current_run(session, facility_type, circle)
    if run is None:
        raise NotFound(f"尚未计算该覆盖分析，请运行：{compute_command(facility_type, circle)} "
                       "(no coverage run yet; compute it with this command)")
    return run


def parse_level(args: Mapping[str, str], *, default: str = "community") -> str:
    """``level``: grid, community, subdistrict or district."""
    level = args.get("level") or default
    if level not in LEVELS:
        raise InvalidInput(f"未知层级 {level!r}；可选：{', '.join(LEVELS)} (unknown level)")
    return level


def parse_parent(args: Mapping[str, str]) -> str | None:
    """``parent``: the code of a district, sub-district or community (6, 9 or 12 digits)."""
    parent = (args.get("parent") or "").strip()
    if not parent:
        return None
    if not parent.isdigit() or len(parent) not in (6, 9, 12):
        raise InvalidInput(f"上级代码无效：{parent!r} (parent must be a 6, 9 or 12-digit code)")
    return parent


def _rate(covered: int, total: int) -> float | None:
    return covered / total if total else None


def runs(session: Session, *, lang: str) -> list[dict[str, Any]]:
    """Current runs with their totals and rates, JSON-ready."""
    out = []
    for row in repo.current_runs(session, lang=lang):
        out.append({**row, "computed_at": row["computed_at"].isoformat(),
                    "seconds": round(float(row["seconds"]), 3),
                    "residents_rate": _rate(row["residents_covered"], row["residents"]),
                    "elderly_rate": _rate(row["elderly_covered"], row["elderly"]),
                    "elderly_uncovered": row["elderly"] - row["elderly_covered"],
                    "command": compute_command(row["facility_type"], row["circle"])})
    return out


def choices(session: Session, *, lang: str) -> dict[str, Any]:
    """Facility types with rules and the life circles, for the page's pickers."""
    return {"types": repo.facility_types(session, lang=lang),
            "circles": repo.circles(session, lang=lang)}


def buildings_geojson(factory: sessionmaker[Session], run: Run, *, bbox: BBox | None,
                      zoom: int | None, cap: int | None) -> Iterator[str]:
    """The run's buildings as a streamed FeatureCollection (at most ``cap`` with ``zoom``)."""
    stmt = repo.building_features(run, bbox=bbox, zoom=zoom,
                                  limit=cap + 1 if cap is not None else None)
    with factory() as session:
        yield from feature_collection(stream_features(session, stmt), cap=cap)


def buildings_csv(factory: sessionmaker[Session], run: Run) -> Iterator[str]:
    """Every building of the run as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    with factory() as session:
        yield "\ufeff"
        yield from _csv(BUILDING_CSV_COLUMNS, repo.building_rows(session, run))


def areas(session: Session, run: Run, level: str, *, parent: str | None) -> list[dict[str, Any]]:
    """Rows of one level, worst first, each with its bbox ``[minx, miny, maxx, maxy]``."""
    out = []
    for row in repo.areas(session, run, level, parent=parent):
        box = [row.pop(k) for k in ("minx", "miny", "maxx", "maxy")]
        row["bbox"] = None if box[0] is None else [round(float(v), 6) for v in box]
        out.append(row)
    return out


def areas_geojson(factory: sessionmaker[Session], run: Run, level: str, *, parent: str | None,
                  bbox: BBox | None, zoom: int | None) -> Iterator[str]:
    """Area polygons with rates as a streamed FeatureCollection."""
    with factory() as session:
        yield from feature_collection(
            repo.area_features(session, run, level, parent=parent, bbox=bbox, zoom=zoom))


def areas_csv(rows: list[dict[str, Any]]) -> Iterator[str]:
    """Area rows as CSV (UTF-8 with BOM)."""
    yield "\ufeff"
    yield from _csv(AREA_CSV_COLUMNS, rows)


def _csv(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def distances(session: Session, run: Run) -> dict[str, Any]:
    """Histogram of walking distances (100 m bins to 2 km) plus the buildings not reached."""
    rows = repo.distance_histogram(session, run, bin_m=HISTOGRAM_BIN_M, bins=HISTOGRAM_BINS)
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


def catchments_geojson(session: Session, run: Run, bbox: BBox) -> str:
    """Street pieces within the run's walking limit of its facilities, clipped to ``bbox``.

    Only the streets and facilities within the limit of the bbox are loaded: any walk of at
    most the limit that ends inside the bbox stays within that margin.
    """
    area = _expand(bbox, run.max_distance_m)
    nodes, edges, facilities = repo.catchment_inputs(session, run, area)
    empty = '{"type":"FeatureCollection","features":[],"numberReturned":0}'
    if edges.empty or facilities.empty:
        return empty
    graph = network.build_graph(nodes, edges, crs=METRIC_CRS)
    sources = network.snap(graph, facilities, max_snap_m=MAX_SNAP_M)
    pieces = network.catchment_edges(graph, sources, max_distance_m=run.max_distance_m)
    pieces = pieces.to_crs(SRID).clip(shapely.box(*bbox))
    pieces = pieces[~pieces.geometry.is_empty]
    if pieces.empty:
        return empty
    pieces["geometry"] = shapely.set_precision(pieces.geometry.array, 1e-6)
    return str(pieces[["geometry"]].to_json(drop_id=True)[:-1]
               + f',"numberReturned":{len(pieces)}}}')


def _expand(bbox: BBox, margin_m: float) -> BBox:
    minx, miny, maxx, maxy = bbox
    dlat = margin_m / 110_574.0
    dlon = margin_m / (111_320.0 * math.cos(math.radians(max(abs(miny), abs(maxy)))))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)
