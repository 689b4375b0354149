"""Export a layer, whole or of one area, in a partner's format and CRS, with the fields an
import takes back, so what goes out comes back in unchanged.

Formats: GeoJSON, GeoPackage, Shapefile (zipped, with ``.prj`` and ``.cpg``; UTF-8 or GBK),
CSV (longitude/latitude for points, WKT otherwise) and KML. CRSs: WGS84, CGCS2000, any EPSG
code (the city's Gauss-Krüger zone), GCJ-02 and BD-09 (for overlays on Amap and Baidu maps;
no EPSG code names them, so such a file declares none and says so in its name). Rows are read
and written in batches: memory follows a batch, not the layer. The buildings' counts of
vulnerable residents go out only to those who may see them: the operator at the command line,
and data officers and administrators inside their territory.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyproj
import shapely
from sqlalchemy.orm import Session, sessionmaker

from gridmap import crs as datums
from gridmap.access import Principal
from gridmap.errors import Forbidden, InvalidInput, Unauthorized
from gridmap.exchange import georef
from gridmap.exchange.layers import LAYERS, Kind, LayerSpec
from gridmap.exchange.repositories import exports as repo
from gridmap.exchange.rules import EXCHANGERS, FORMATS, STREETS
from gridmap.writers import csv_rows, dumps, feature, feature_collection

EXPORTERS = EXCHANGERS
_STREET_COLUMNS = ("id", "kind", "name", "length_m")
_LONLAT = {"wgs84", "gcj02", "bd09", "EPSG:4326", "EPSG:4490"}
BATCH = 5000
"""Rows per batch for GeoJSON and CSV (written as they come)."""
GDAL_BATCH = 65_000
"""Rows per batch written through GDAL. Each append reopens the file, and in a GeoPackage the
appended rows reach the spatial index one by one through its triggers (the first batch's index
is built in bulk), so the batches are large (measured on 121,514 buildings: 0.70 s to write
in batches of 25,000, 0.45 s in one; about 2 MB of memory per 1,000 rows)."""
_GDAL_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
               "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
               "MULTIPOLYGON": "MultiPolygon"}
"""PostGIS's declared geometry types as GDAL names them (others: ``Unknown``)."""


@dataclass(frozen=True)
class Request:
    """What to export."""

    layer: str
    fmt: str = "geojson"
    crs: str = "wgs84"
    area: str | None = None
    """A district, sub-district or community code: only what lies in it."""
    bbox: tuple[float, float, float, float] | None = None
    """Only what meets this WGS84 box."""
    facility_type: str | None = None
    encoding: str = "utf-8"
    """The Shapefile's attribute encoding: ``utf-8`` or ``gbk`` (for older desktop GIS)."""


def _check(principal: Principal, request: Request) -> None:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*EXPORTERS):
        raise Forbidden("只有数据管理员和系统管理员可以导出数据 (only data officers and "
                        "administrators export data)")
    if request.layer not in (*LAYERS, STREETS):
        raise InvalidInput(f"未知图层 {request.layer[:40]!r}，可选：{', '.join((*LAYERS, STREETS))} "
                           "(unknown layer)")
    if request.fmt not in FORMATS:
        raise InvalidInput(f"未知格式 {request.fmt[:20]!r}，可选：{', '.join(FORMATS)} "
                           "(unknown format)")
    if request.encoding.lower() not in ("utf-8", "gbk"):
        raise InvalidInput("编码须为 utf-8 或 gbk (encoding must be utf-8 or gbk)")
    if request.facility_type and request.layer != "facilities":
        raise InvalidInput("--type 只适用于 facilities 图层 (--type applies to facilities only)")
    if principal.area_code and (not request.area
                                or not request.area.startswith(principal.area_code)):
        raise Forbidden(f"只能导出您辖区 {principal.area_code} 内的数据，请指定其中的区域 "
                        f"(you export inside your area {principal.area_code} only)")


def _columns(layer: str) -> list[str]:
    if layer == STREETS:
        return list(_STREET_COLUMNS)
    spec: LayerSpec = LAYERS[layer]
    return [f.name for f in spec.fields]


def _target(raw: str) -> tuple[georef.Georef, pyproj.Transformer | None]:
    target = georef.parse(raw)
    if target.crs is None or target.crs.equals(pyproj.CRS("EPSG:4326")):
        return target, None
    return target, pyproj.Transformer.from_crs("EPSG:4326", target.crs, always_xy=True)


def _move(geoms: np.ndarray, target: georef.Georef,
          transformer: pyproj.Transformer | None) -> np.ndarray:
    if target.crs is None:
        forward = datums.wgs84_to_gcj02 if target.label == "gcj02" else datums.wgs84_to_bd09

        def shift(xy: np.ndarray) -> np.ndarray:
            x, y = forward(xy[:, 0], xy[:, 1])
            return np.column_stack([np.asarray(x, float), np.asarray(y, float)])

        moved: np.ndarray = shapely.transform(geoms, shift)
        return moved
    if transformer is None:
        return geoms

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    projected: np.ndarray = shapely.transform(geoms, project)
    return projected


def _table(layer: str) -> str:
    return "street_edge" if layer == STREETS else LAYERS[layer].table


def _numbers(layer: str) -> dict[str, type]:
    """The columns that hold numbers, with their type (the rest is text)."""
    if layer == STREETS:
        return {"id": int, "length_m": float}
    return {f.name: int for f in LAYERS[layer].fields if f.kind is Kind.COUNT}


def _batches(factory: sessionmaker[Session], request: Request, columns: list[str], *,
             rows_per_batch: int) -> Iterator[tuple[list[tuple[Any, ...]], np.ndarray]]:
    """The layer in batches: the rows (geometry last, as stored) and their geometries as WKB in
    the target CRS (the stored WKB as it is when that is WGS84)."""
    target, transformer = _target(request.crs)
    with factory() as session:
        for rows in repo.batches(session, _table(request.layer), columns, area=request.area,
                                 bbox=request.bbox, facility_type=request.facility_type,
                                 batch=rows_per_batch):
            wkb = np.array([r[-1] for r in rows], dtype=object)
            if target.crs is None or transformer is not None:
                wkb = shapely.to_wkb(_move(shapely.from_wkb(wkb), target, transformer))
            yield rows, wkb
            del rows, wkb  # freed before the next batch is read


def _records(factory: sessionmaker[Session], request: Request,
             columns: list[str]) -> Iterator[tuple[list[dict[str, Any]], np.ndarray]]:
    """The layer in batches for the text formats: each row's fields as the database gives them
    (numbers as numbers, None where empty) and the geometries in the target CRS."""
    for rows, wkb in _batches(factory, request, columns, rows_per_batch=BATCH):
        yield [dict(zip(columns, r, strict=False)) for r in rows], shapely.from_wkb(wkb)


def export(factory: sessionmaker[Session], principal: Principal, request: Request,
           out: IO[bytes]) -> int:
    """Write the export to ``out`` (binary); the number of features.

    Every check is made before the first byte (a refused export writes nothing).
    """
    _check(principal, request)
    georef.parse(request.crs)  # an unknown CRS is refused before anything is read
    if request.fmt == "kml" and georef.parse(request.crs).label not in _LONLAT:
        raise InvalidInput("KML 只能是经纬度（wgs84、cgcs2000、gcj02、bd09） (KML holds "
                           "longitude/latitude only)")
    columns = _columns(request.layer)
    if request.fmt in ("geojson", "csv"):
        return _stream_text(factory, request, columns, out)
    return _via_gdal(factory, request, columns, out)


def _stream_text(factory: sessionmaker[Session], request: Request, columns: list[str],
                 out: IO[bytes]) -> int:
    count = 0
    target = georef.parse(request.crs)
    if request.fmt == "geojson":
        def features() -> Iterator[str]:
            nonlocal count
            for records, geoms in _records(factory, request, columns):
                texts = shapely.to_geojson(geoms)
                for text_, row in zip(texts, records, strict=True):
                    count += 1
                    yield feature(geometry=text_, properties=row)

        chunks = feature_collection(features())
        first = next(chunks)
        if target.crs is not None and not target.crs.equals(pyproj.CRS("EPSG:4326")):
            # RFC 7946 is WGS84 only; another CRS is named the way GDAL and QGIS read it.
            name = f"urn:ogc:def:crs:EPSG::{target.crs.to_epsg()}"
            member = dumps({"type": "name", "properties": {"name": name}})
            first = first.replace('{"type":"FeatureCollection",',
                                  '{"type":"FeatureCollection","crs":' + member + ",", 1)
        out.write(first.encode("utf-8"))
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
        return count
    points = request.layer == "facilities"
    xy_names = ("lon", "lat") if target.label in _LONLAT else ("x", "y")
    header = [*columns, *(xy_names if points else ("wkt",))]

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal count
        for records, geoms in _records(factory, request, columns):
            if points:
                xy = np.round(shapely.get_coordinates(geoms), 8).tolist()
                for record, (x, y) in zip(records, xy, strict=True):
                    record[xy_names[0]], record[xy_names[1]] = x, y
            else:
                for record, wkt in zip(records, shapely.to_wkt(geoms, rounding_precision=8),
                                       strict=True):
                    record["wkt"] = wkt
            count += len(records)
            yield from records

    for chunk in csv_rows(header, rows()):
        out.write(chunk.encode("utf-8"))
    return count


def _fields(rows: list[tuple[Any, ...]], columns: list[str], numbers: dict[str, type],
            ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The rows' fields as GDAL takes them: numbers as numeric arrays with a mask of the
    empty ones, text as object arrays (None where empty)."""
    data: list[np.ndarray] = []
    masks: list[np.ndarray | None] = []
    for j, name in enumerate(columns):
        values = [r[j] for r in rows]
        kind = numbers.get(name)
        if kind is None:
            data.append(np.array(values, dtype=object))
            masks.append(None)
            continue
        empty = np.array([v is None for v in values], dtype=bool)
        dtype = np.int64 if kind is int else np.float64
        data.append(np.array([0 if v is None else v for v in values], dtype=dtype))
        masks.append(empty if empty.any() else None)
    return data, masks


def _via_gdal(factory: sessionmaker[Session], request: Request, columns: list[str],
              out: IO[bytes]) -> int:
    """GeoPackage, Shapefile and KML through GDAL, a batch at a time into a temporary file
    (pyogrio's own arrays: the WKB goes from PostGIS to GDAL as it is when no CRS changes)."""
    from pyogrio.raw import write  # noqa: PLC0415 (GDAL loads only for these formats)

    driver = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "kml": "KML"}[request.fmt]
    target = georef.parse(request.crs)
    crs = None  # named as geopandas names it to GDAL: by its EPSG code where it has one
    if target.crs is not None:
        epsg = target.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else target.crs.to_wkt("WKT1_GDAL")
    numbers = _numbers(request.layer)
    with factory() as session:
        declared = repo.geometry_type(session, _table(request.layer))
    count = 0
    with tempfile.TemporaryDirectory(prefix="gridmap-export-") as folder:
        stem = request.layer
        path = Path(folder) / f"{stem}{'.shp' if request.fmt == 'shp' else FORMATS[request.fmt]}"
        options: dict[str, Any] = {}
        if request.fmt == "shp":
            options["encoding"] = request.encoding.upper()
        if request.fmt == "kml":
            options["dataset_options"] = {"NameField": "name"}
        with warnings.catch_warnings():
            # GCJ-02/BD-09 have no CRS to declare, and a Shapefile shortens names to 10
            # characters (community_code → community_): both expected, both read back.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            for rows, wkb in _batches(factory, request, columns, rows_per_batch=GDAL_BATCH):
                data, masks = _fields(rows, columns, numbers)
                write(path, wkb, data, columns, field_mask=masks, layer=stem, driver=driver,
                      geometry_type=_GDAL_TYPES.get(declared, "Unknown"), crs=crs,
                      append=count > 0, **options)
                count += len(rows)
                del rows, wkb, data, masks  # freed before the next batch is read
            if count == 0:
                empty = [np.array([], dtype=object) for _ in columns]
                write(path, np.array([], dtype=object), empty, columns, layer=stem,
                      driver=driver, geometry_type="Unknown", crs=None, **options)
        if request.fmt == "shp":
            bundle = Path(folder) / f"{stem}.zip"
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(folder).glob(f"{stem}.*")):
                    if part.suffix != ".zip":
                        archive.write(part, part.name)
            path = bundle
        with path.open("rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
    return count


def format_of(path: Path, given: str | None) -> str:
    """The format asked for, or the one a file name's suffix says (GeoJSON otherwise)."""
    if given:
        return given
    suffix = path.suffix.lower()
    return {".gpkg": "gpkg", ".zip": "shp", ".shp": "shp", ".csv": "csv",
            ".kml": "kml"}.get(suffix, "geojson")
