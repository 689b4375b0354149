"""The checks one feature at a time (no database): geometry present, of the layer's type,
valid (repaired only when asked), inside the city; codes well formed and unique; counts
plausible; facility types known. Checks that need the data already loaded (parents, overlaps,
gaps, which grid a building is in) run in PostGIS on the staged features
(:mod:`gridmap.exchange.repositories.staging`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap import codes
from gridmap.exchange.layers import Kind, LayerSpec, Shape
from gridmap.exchange.report import Problem, Severity

Extent = tuple[float, float, float, float]
_WHERE = re.compile(r"\[\s*([-0-9.eE+]+)\s+([-0-9.eE+]+)\s*\]")
_PARTS = {Shape.POLYGON: ("Polygon",), Shape.MULTIPOLYGON: ("Polygon", "MultiPolygon"),
          Shape.POINT: ("Point",)}


@dataclass(frozen=True)
class Rules:
    """What the checks need to know besides the features."""

    repair: bool = False
    """Repair invalid geometries with ``make_valid`` (each repair is noted) instead of refusing."""
    extent: Extent | None = None
    """The city's extent (WGS84, with a margin); features outside it are errors."""
    facility_types: Collection[str] = ()


def _problem(row: int, key: str, field: str, code: str, zh: str, en: str,
             where: BaseGeometry | None = None,
             severity: Severity = Severity.ERROR) -> Problem:
    return Problem(row, key, field, code, zh, en, severity, where)


def _shape(spec: LayerSpec, geom: BaseGeometry) -> tuple[BaseGeometry | None, str | None]:
    """``geom`` as the layer stores it (a one-part multi-geometry taken as its part, a polygon
    made a multipolygon), or None and why not."""
    kind = geom.geom_type
    if spec.shape is Shape.MULTIPOLYGON:
        if kind == "Polygon":
            return shapely.MultiPolygon([geom]), None
        return (geom, None) if kind == "MultiPolygon" else (None, kind)
    if kind.startswith("Multi") and len(geom.geoms) == 1:
        geom = geom.geoms[0]
        kind = geom.geom_type
    return (geom, None) if kind in _PARTS[spec.shape] else (None, kind)


def _repair(geom: BaseGeometry, spec: LayerSpec) -> BaseGeometry | None:
    """``make_valid`` keeping the layer's dimension (a bow-tie becomes two triangles)."""
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if spec.shape is Shape.POINT:
        return fixed if fixed.geom_type == "Point" else None
    polygons = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon",
                                                                            "MultiPolygon")]
    if not polygons:
        return None
    merged = shapely.union_all(polygons)
    shaped, _ = _shape(spec, merged)
    return shaped


_TYPE = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
         5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


def _as_stored(spec: LayerSpec, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The geometries as the layer stores them (None where of another type) and which are of
    another type (vectorised: a one-part multi-geometry becomes its part, a polygon a
    multipolygon)."""
    kinds = shapely.get_type_id(flat)
    parts = shapely.get_num_geometries(flat)
    stored = np.full(len(flat), None, dtype=object)
    if spec.shape is Shape.MULTIPOLYGON:
        ok = kinds == 6
        stored[ok] = flat[ok]
        single = np.flatnonzero(kinds == 3)
        stored[single] = [shapely.MultiPolygon([g]) for g in flat[single]]
        wrong = ~ok & (kinds != 3) & (kinds >= 0)
        return stored, wrong
    own, multi = (3, 6) if spec.shape is Shape.POLYGON else (0, 4)
    ok = kinds == own
    stored[ok] = flat[ok]
    one = (kinds == multi) & (parts == 1)
    if one.any():
        stored[one] = shapely.get_geometry(flat[one], 0)
    wrong = ~ok & ~one & (kinds >= 0)
    return stored, wrong


def check(spec: LayerSpec, frame: gpd.GeoDataFrame,
          rules: Rules) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check every feature; the features with their geometry as stored (or None where
    refused) and the problems. Vectorised (shapely 2 over the whole layer); only the features
    with a problem are looked at one by one."""
    problems: list[Problem] = []
    keys = frame["code"].fillna("").astype(str).tolist() if "code" in frame else [""] * len(frame)
    rows = frame["row"].tolist()
    raw = np.asarray(frame.geometry.values, dtype=object)
    missing = pd.isna(raw) | shapely.is_empty(raw)
    has_z = shapely.has_z(raw)
    if np.any(has_z):
        problems.append(Problem(None, "", "geometry", "flattened",
                                f"{int(np.sum(has_z))} 个要素带高程（Z），已去掉",
                                f"{int(np.sum(has_z))} features had heights (Z): flattened",
                                Severity.NOTE))
    cleared = raw.copy()
    cleared[missing] = None
    flat = shapely.force_2d(cleared) if np.any(has_z) or np.any(shapely.has_m(raw)) else cleared
    stored, wrong = _as_stored(spec, flat)
    for i in np.flatnonzero(missing):
        problems.append(_problem(rows[i], keys[i], "geometry", "geometry_missing", "没有几何",
                                 "no geometry"))
    for i in np.flatnonzero(wrong):
        kind = _TYPE.get(int(shapely.get_type_id(flat[i])), "?")
        problems.append(_problem(
            rows[i], keys[i], "geometry", "wrong_geometry_type",
            f"几何类型 {kind} 不符合图层 {spec.name}（须为 {spec.shape.value}）",
            f"a {kind} in a {spec.shape.value} layer ({spec.name})",
            shapely.point_on_surface(flat[i])))
    present = np.array([g is not None for g in stored])
    invalid = np.zeros(len(stored), dtype=bool)
    invalid[present] = ~shapely.is_valid(stored[present])
    for i in np.flatnonzero(invalid):
        shaped = stored[i]
        reason = shapely.is_valid_reason(shaped)
        where = _WHERE.search(reason)
        spot = (shapely.Point(float(where.group(1)), float(where.group(2))) if where
                else shapely.point_on_surface(shaped))
        fixed = _repair(shaped, spec) if rules.repair else None
        if fixed is None:
            problems.append(_problem(
                rows[i], keys[i], "geometry", "invalid_geometry",
                f"几何无效：{reason}" + ("" if rules.repair else "（可加 --repair 自动修复）"),
                f"invalid geometry: {reason}" + ("" if rules.repair else " (--repair mends it)"),
                spot))
            stored[i] = None
            continue
        problems.append(_problem(rows[i], keys[i], "geometry", "repaired",
                                 f"几何无效（{reason}），已修复", f"invalid geometry "
                                 f"({reason}): repaired", spot, Severity.NOTE))
        stored[i] = fixed
    if rules.extent is not None:
        minx, miny, maxx, maxy = rules.extent
        present = np.array([g is not None for g in stored])
        bounds = np.full((len(stored), 4), np.nan)
        bounds[present] = shapely.bounds(stored[present])
        outside = present & ((bounds[:, 2] < minx) | (bounds[:, 0] > maxx)
                             | (bounds[:, 3] < miny) | (bounds[:, 1] > maxy))
        for i in np.flatnonzero(outside):
            x0, y0 = bounds[i, 0], bounds[i, 1]
            problems.append(_problem(
                rows[i], keys[i], "geometry", "outside_city",
                f"位置在本市范围之外（{x0:.4f}, {y0:.4f}）", f"lies outside the city "
                f"({x0:.4f}, {y0:.4f})", shapely.point_on_surface(stored[i])))
    out = frame.copy()
    out["geometry"] = gpd.GeoSeries(stored, index=frame.index, crs="EPSG:4326")
    problems += _values(spec, out, rules)
    return out, problems


def _place(frame: gpd.GeoDataFrame, i: int) -> BaseGeometry | None:
    geom = frame.geometry.iloc[i]
    return shapely.point_on_surface(geom) if geom is not None else None


def _values(spec: LayerSpec, frame: gpd.GeoDataFrame, rules: Rules) -> list[Problem]:
    """The fields' values, each check over a whole column at once; only the rows with a problem
    are named one by one."""
    problems: list[Problem] = []
    keys = frame["code"].fillna("").astype(str).tolist()
    rows = frame["row"].tolist()

    def add(i: int, field: str, code: str, zh: str, en: str) -> None:
        problems.append(_problem(rows[i], keys[i], field, code, zh, en, _place(frame, i)))

    for fld in spec.fields:
        name, values = fld.name, frame[fld.name]
        absent = values.isna().to_numpy()
        if fld.required:
            for i in np.flatnonzero(absent):
                add(int(i), name, "missing_value", f"{name} 为空", f"{name} is empty")
        level = spec.level if name == "code" else _code_level(name)
        if fld.kind is Kind.CODE and level is not None:
            width = codes.width(level)
            ok = values.astype("string").str.fullmatch(f"[0-9]{{{width}}}").fillna(False)
            for i in np.flatnonzero(~absent & ~ok.to_numpy(dtype=bool)):
                v = values.iloc[i]
                add(int(i), name, "code_malformed", f"{name} {v!r} 不是 {width} 位代码",
                    f"{name} {v!r} is not a {width}-digit code")
        if fld.kind is Kind.COUNT:
            number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            for i in np.flatnonzero(number < 0):
                add(int(i), name, "negative_count", f"{name} 为负数：{int(number[i])}",
                    f"{name} is negative: {int(number[i])}")
            if fld.maximum is not None:
                for i in np.flatnonzero(number > fld.maximum):
                    add(int(i), name, "absurd_count",
                        f"{name} = {int(number[i])} 不合常理（上限 {fld.maximum}）",
                        f"{name} = {int(number[i])} is not plausible (at most {fld.maximum})")
    key_series = pd.Series(keys)
    first: dict[str, int] = {}
    for i in np.flatnonzero(((key_series != "") & key_series.duplicated(keep=False)).to_numpy()):
        key = keys[i]
        if key not in first:
            first[key] = rows[i]
            continue
        add(int(i), "code", "code_duplicate", f"编码 {key} 与第 {first[key]} 行重复",
            f"code {key} repeats row {first[key]}")
    if spec.name == "buildings":
        for bigger, smaller in (("residents", "aged_60_plus"), ("aged_60_plus", "aged_80_plus"),
                                ("aged_60_plus", "elderly_living_alone")):
            b = pd.to_numeric(frame[bigger], errors="coerce").to_numpy(dtype=float)
            sm = pd.to_numeric(frame[smaller], errors="coerce").to_numpy(dtype=float)
            for i in np.flatnonzero((sm > b) & (b >= 0)):
                add(int(i), smaller, "counts_inconsistent",
                    f"{smaller} ({int(sm[i])}) 大于 {bigger} ({int(b[i])})",
                    f"{smaller} ({int(sm[i])}) exceeds {bigger} ({int(b[i])})")
    if spec.name == "facilities" and rules.facility_types:
        known = sorted(rules.facility_types)
        types = frame["type"]
        for i in np.flatnonzero((types.notna() & ~types.isin(known)).to_numpy()):
            add(int(i), "type", "unknown_facility_type",
                f"未知设施类型 {types.iloc[i]!r}，可用：{', '.join(known)}",
                f"unknown facility type {types.iloc[i]!r}; known: {', '.join(known)}")
    return problems


def _code_level(field: str) -> codes.Level | None:
    return {"grid_code": codes.Level.GRID, "community_code": codes.Level.COMMUNITY}.get(field)
