"""Read a vector file into a GeoDataFrame through GDAL (pyogrio, vectorised).

GeoJSON, GeoPackage, Shapefile (a ``.zip`` or the ``.shp`` beside its siblings; its DBF text in
the ``.cpg``'s encoding, or the one given), CSV (longitude/latitude columns or a WKT column),
KML, and whatever else GDAL reads. Problems a person can fix come back as
:class:`~gridmap.errors.InvalidInput` naming the file and what to do.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from gridmap.errors import InvalidInput, PayloadTooLarge
from gridmap.exchange.report import Problem

MAX_BYTES = 1 << 30
"""Files larger than this (1 GiB) are refused before anything is read."""
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "jd")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "wd")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
_MOJIBAKE = re.compile(r"[\u00c0-\u00ff][\u0080-\u00ff]")
"""Two Latin-1 letters in a row: what GBK (or UTF-8) bytes look like read as Latin-1."""


@dataclass(frozen=True)
class Source:
    """What a file held: its features (geometry in the file's CRS), that CRS, and notes."""

    frame: gpd.GeoDataFrame
    crs: str | None
    """The CRS the file declares (``EPSG:nnnn`` or WKT), None when it declares none."""
    layer: str
    driver: str
    encoding: str | None
    gdal_warnings: tuple[str, ...] = ()
    """What GDAL said while reading (e.g. a WKT it could not parse), for the report."""
    assumed_wgs84: bool = False
    """A CSV declares no CRS: its longitude/latitude are taken as WGS84 (and checked)."""
    notes: tuple[Problem, ...] = ()
    """What the reader left out or assumed (an OpenStreetMap extract's skipped features), for
    the report."""


def _fail(path: Path, zh: str, en: str) -> InvalidInput:
    return InvalidInput(f"{path.name}：{zh} ({en})")


def _shapefile_in_zip(path: Path) -> None:
    """A zip must hold a .shp with its .dbf and .shx (one layer), or another GDAL format."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist()]
    except zipfile.BadZipFile:
        raise _fail(path, "不是有效的 zip 文件", "not a valid zip file") from None
    shps = [n for n in names if n.endswith(".shp")]
    if not shps and not any(n.endswith((".gpkg", ".geojson", ".json", ".kml", ".csv"))
                            for n in names):
        raise _fail(path, "压缩包中没有 .shp 文件", "the zip holds no .shp file")
    for shp in shps:
        stem = shp[:-4]
        missing = [ext for ext in (".dbf", ".shx") if stem + ext not in names]
        if missing:
            raise _fail(path, f"{shp} 缺少 {', '.join(missing)}",
                        f"{shp} comes without its {', '.join(missing)}")


def _csv_options(path: Path) -> dict[str, Any]:
    """GDAL's CSV open options: which columns hold the geometry (by our usual names)."""
    with path.open(encoding="utf-8-sig", errors="replace") as text:
        header = text.readline()
    columns = [c.strip().strip('"').lower() for c in header.split(",")]
    options: dict[str, Any] = {"AUTODETECT_TYPE": "YES", "KEEP_GEOM_COLUMNS": "NO",
                               "EMPTY_STRING_AS_NULL": "YES"}
    lon = next((c for c in columns if c in LON_NAMES), None)
    lat = next((c for c in columns if c in LAT_NAMES), None)
    wkt = next((c for c in columns if c in WKT_NAMES), None)
    if lon and lat:
        options.update(X_POSSIBLE_NAMES=lon, Y_POSSIBLE_NAMES=lat)
    elif wkt:
        options.update(GEOM_POSSIBLE_NAMES=wkt)
    else:
        raise _fail(path, "CSV 中找不到经纬度列（lon/lat、经度/纬度）或 WKT 列",
                    "the CSV has no longitude/latitude columns (lon/lat) nor a WKT column")
    return options


def read(path: Path, *, layer: str | None = None, encoding: str | None = None) -> Source:
    """Read ``path`` (its ``layer`` when it holds several) with every feature and attribute.

    Raises
    ------
    PayloadTooLarge
        For a file over :data:`MAX_BYTES`.
    InvalidInput
        When the file cannot be read, holds no features, or looks wrongly decoded.
    """
    if not path.exists():
        raise _fail(path, "文件不存在", "no such file")
    if path.stat().st_size > MAX_BYTES:
        raise PayloadTooLarge(f"{path.name}：文件超过 {MAX_BYTES >> 20} MB "
                              f"(the file is larger than {MAX_BYTES >> 20} MB)")
    if path.stat().st_size == 0:
        raise _fail(path, "文件为空", "the file is empty")
    suffix = path.suffix.lower()
    options: dict[str, Any] = {}
    if suffix == ".zip":
        _shapefile_in_zip(path)
    elif suffix == ".csv":
        options = _csv_options(path)
    try:
        layers = pyogrio.list_layers(path)
        if layer is None:
            if len(layers) > 1:
                names = ", ".join(str(n) for n, _ in layers)
                raise _fail(path, f"文件包含多个图层，请用 --layer 指定：{names}",
                            f"the file holds several layers, choose one with --layer: {names}")
            layer = str(layers[0][0])
        info = pyogrio.read_info(path, layer=layer, encoding=encoding, **options)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, **options)
    except (DataSourceError, DataLayerError) as exc:
        raise _fail(path, f"无法读取：{str(exc)[:200]}", "GDAL cannot read it") from None
    if len(frame) == 0:
        raise _fail(path, "文件中没有要素", "the file holds no features")
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise _fail(path, "文件中没有几何（CSV 请给出经纬度列或 WKT 列）",
                    "the file holds no geometry (a CSV needs lon/lat or WKT columns)")
    crs = frame.crs.to_string() if frame.crs is not None else None
    assumed = crs is None and suffix == ".csv"
    if assumed:  # longitude/latitude columns: degrees, WGS84 unless --crs says otherwise
        crs = "EPSG:4326"
    source = Source(frame=frame, crs=crs, layer=layer, driver=str(info.get("driver", "")),
                    encoding=encoding or info.get("encoding"),
                    gdal_warnings=tuple(str(w.message)[:300] for w in said),
                    assumed_wgs84=assumed)
    if encoding is None:
        _check_decoding(path, frame)
    return source


def _check_decoding(path: Path, frame: pd.DataFrame) -> None:
    """Stop when names or text look like GBK read as Latin-1 (a Shapefile without ``.cpg``)."""
    texts: list[tuple[str, list[str]]] = [("字段名 (field names)", [str(c) for c in frame.columns])]
    for column in frame.columns:
        if column != frame.geometry.name and pd.api.types.is_string_dtype(frame[column]):
            texts.append((str(column), frame[column].dropna().astype(str).head(200).tolist()))
    for where, values in texts:
        garbled = [v for v in values if _MOJIBAKE.search(v)]
        if values and len(garbled) / len(values) > 0.3 and _decodes_as_gbk(garbled[0]):
            raise _fail(path, f"“{where}”看起来是乱码（GBK 编码被当作 Latin-1 读取），"
                        "请加 --encoding gbk 重试",
                        f"'{where}' looks garbled (GBK read as Latin-1): re-run with "
                        "--encoding gbk")


def _decodes_as_gbk(text: str) -> bool:
    try:
        decoded = text.encode("latin-1").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return bool(np.any([0x4E00 <= ord(ch) <= 0x9FFF for ch in decoded]))
