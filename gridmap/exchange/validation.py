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


def check(spec: LayerSpec, frame: gpd.GeoDataFrame,
          rules: Rules) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check every feature; the features with their geometry as stored (or None where
    refused) and the problems."""
    problems: list[Problem] = []
    keys = frame["code"].fillna("").astype(str).tolist() if "code" in frame else [""] * len(frame)
    rows = frame["row"].tolist()
    geoms = list(frame.geometry.values)
    has_z = shapely.has_z(np.asarray(geoms, dtype=object))
    if np.any(has_z):
        problems.append(Problem(None, "", "geometry", "flattened",
                                f"{int(np.sum(has_z))} 个要素带高程（Z），已去掉",
                                f"{int(np.sum(has_z))} features had heights (Z): flattened",
                                Severity.NOTE))
    for i, geom in enumerate(geoms):
        row, key = rows[i], keys[i]
        if geom is None or geom.is_empty:
            problems.append(_problem(row, key, "geometry", "geometry_missing", "没有几何",
                                     "no geometry"))
            geoms[i] = None
            continue
        geom = shapely.force_2d(geom)
        shaped, wrong = _shape(spec, geom)
        if shaped is None:
            problems.append(_problem(
                row, key, "geometry", "wrong_geometry_type",
                f"几何类型 {wrong} 不符合图层 {spec.name}（须为 {spec.shape.value}）",
                f"a {wrong} in a {spec.shape.value} layer ({spec.name})",
                shapely.point_on_surface(geom)))
            geoms[i] = None
            continue
        if not shaped.is_valid:
            reason = shapely.is_valid_reason(shaped)
            where = _WHERE.search(reason)
            spot = (shapely.Point(float(where.group(1)), float(where.group(2))) if where
                    else shapely.point_on_surface(shaped))
            fixed = _repair(shaped, spec) if rules.repair else None
            if fixed is None:
                problems.append(_problem(
                    row, key, "geometry", "invalid_geometry",
                    f"几何无效：{reason}" + ("" if rules.repair else "（可加 --repair 自动修复）"),
                    f"invalid geometry: {reason}" + ("" if rules.repair
                                                     else " (--repair mends it)"), spot))
                geoms[i] = None
                continue
            problems.append(_problem(row, key, "geometry", "repaired",
                                     f"几何无效（{reason}），已修复", f"invalid geometry "
                                     f"({reason}): repaired", spot, Severity.NOTE))
            shaped = fixed
        geoms[i] = shaped
        if rules.extent is not None:
            minx, miny, maxx, maxy = rules.extent
            x0, y0, x1, y1 = shaped.bounds
            if x1 < minx or x0 > maxx or y1 < miny or y0 > maxy:
                problems.append(_problem(
                    row, key, "geometry", "outside_city",
                    f"位置在本市范围之外（{x0:.4f}, {y0:.4f}）", f"lies outside the city "
                    f"({x0:.4f}, {y0:.4f})", shapely.point_on_surface(shaped)))
    out = frame.copy()
    out["geometry"] = gpd.GeoSeries(geoms, index=frame.index, crs="EPSG:4326")
    problems += _values(spec, out, rules)
    return out, problems


def _values(spec: LayerSpec, frame: gpd.GeoDataFrame, rules: Rules) -> list[Problem]:
    problems: list[Problem] = []
    keys = frame["code"].fillna("").astype(str).tolist()
    rows = frame["row"].tolist()
    places = [shapely.point_on_surface(g) if g is not None else None for g in frame.geometry]
    for fld in spec.fields:
        values = frame[fld.name].tolist()
        for i, value in enumerate(values):
            if value is None:
                if fld.required:
                    problems.append(_problem(rows[i], keys[i], fld.name, "missing_value",
                                             f"{fld.name} 为空", f"{fld.name} is empty",
                                             places[i]))
                continue
            if fld.kind is Kind.CODE:
                level = spec.level if fld.name == "code" else _code_level(fld.name)
                if level is not None and not codes.is_code(value, level):
                    problems.append(_problem(
                        rows[i], keys[i], fld.name, "code_malformed",
                        f"{fld.name} {value!r} 不是 {codes.width(level)} 位代码",
                        f"{fld.name} {value!r} is not a {codes.width(level)}-digit code",
                        places[i]))
            if fld.kind is Kind.COUNT:
                if value < 0:
                    problems.append(_problem(rows[i], keys[i], fld.name, "negative_count",
                                             f"{fld.name} 为负数：{value}",
                                             f"{fld.name} is negative: {value}", places[i]))
                elif fld.maximum is not None and value > fld.maximum:
                    problems.append(_problem(
                        rows[i], keys[i], fld.name, "absurd_count",
                        f"{fld.name} = {value} 不合常理（上限 {fld.maximum}）",
                        f"{fld.name} = {value} is not plausible (at most {fld.maximum})",
                        places[i]))
    problems += _duplicates(frame, keys, rows, places)
    if spec.name == "buildings":
        problems += _count_order(frame, keys, rows, places)
    if spec.name == "facilities" and rules.facility_types:
        known = sorted(rules.facility_types)
        for i, value in enumerate(frame["type"].tolist()):
            if value is not None and value not in rules.facility_types:
                problems.append(_problem(
                    rows[i], keys[i], "type", "unknown_facility_type",
                    f"未知设施类型 {value!r}，可用：{', '.join(known)}",
                    f"unknown facility type {value!r}; known: {', '.join(known)}", places[i]))
    return problems


def _code_level(field: str) -> codes.Level | None:
    return {"grid_code": codes.Level.GRID, "community_code": codes.Level.COMMUNITY}.get(field)


def _duplicates(frame: gpd.GeoDataFrame, keys: list[str], rows: list[int],
                places: list[BaseGeometry | None]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, key in enumerate(keys):
        if not key:
            continue
        if key in seen:
            problems.append(_problem(rows[i], key, "code", "code_duplicate",
                                     f"编码 {key} 与第 {seen[key]} 行重复",
                                     f"code {key} repeats row {seen[key]}", places[i]))
        else:
            seen[key] = rows[i]
    return problems


def _count_order(frame: gpd.GeoDataFrame, keys: list[str], rows: list[int],
                 places: list[BaseGeometry | None]) -> list[Problem]:
    """Residents ≥ aged 60+ ≥ aged 80+, and aged 60+ ≥ elderly living alone."""
    pairs = [("residents", "aged_60_plus"), ("aged_60_plus", "aged_80_plus"),
             ("aged_60_plus", "elderly_living_alone")]
    problems = []
    for bigger, smaller in pairs:
        for i, (b, s) in enumerate(zip(frame[bigger].tolist(), frame[smaller].tolist(),
                                       strict=True)):
            if b is not None and s is not None and s > b >= 0:
                problems.append(_problem(rows[i], keys[i], smaller, "counts_inconsistent",
                                         f"{smaller} ({s}) 大于 {bigger} ({b})",
                                         f"{smaller} ({s}) exceeds {bigger} ({b})", places[i]))
    return problems
