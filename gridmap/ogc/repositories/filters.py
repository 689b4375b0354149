"""A CQL2 AST (pygeofilter's) as a bound SQLAlchemy condition on whitelisted properties.

Every property name is looked up in the collection's properties (an unknown one is a 400
naming it); every value becomes a bound parameter of the property's type, after its kind is
checked, so no text from a filter ever becomes SQL. Geometries in a filter are read in
``filter-crs`` (axes swapped for EPSG:4326/4490, transformed from the Gauss-Kruger zone) and
compared with the stored WGS84 geometries; ``S_DWITHIN`` measures metres on the spheroid
(geography), after an index-friendly envelope test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import shapely
import shapely.errors
import shapely.geometry
from geoalchemy2 import Geography
from pygeofilter import ast, values
from sqlalchemy import ColumnElement, Float, and_, bindparam, cast, false, func, literal, not_, or_, true
from sqlalchemy.dialects.postgresql import TIMESTAMP

from gridmap.errors import InvalidInput
from gridmap.ogc.crs_refs import STORAGE_SRID, CrsRef
from gridmap.ogc.repositories.catalogue import Expr, kind_of

GEOMETRY_NAMES = ("geometry", "geom")
MAX_DISTANCE_M = 100_000.0
MAX_IN = 1000
MAX_NUMBER = 2**31
"""Numbers in a filter at most (every numeric property is a 32-bit integer or a float)."""
MAX_VERTICES = 10_000
GEOGRAPHIC_RANGE = (-180.0, -90.0, 180.0, 90.0)
PROJECTED_RANGE = (-1e7, -1e7, 1e8, 1e8)
"""Coordinates a filter or bbox may hold: degrees on Earth, or metres of a 3-degree zone (with its
false easting) with a wide margin; beyond them PostGIS's transforms and geography casts fail."""
_SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects", ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains", ast.GeometryWithin: "ST_Within",
    ast.GeometryTouches: "ST_Touches", ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps", ast.GeometryEquals: "ST_Equals",
}
_COMPARE: dict[type[Any], Callable[[Any, Any], ColumnElement[bool]]] = {
    ast.Equal: lambda a, b: a == b, ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b, ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b, ast.GreaterEqual: lambda a, b: a >= b,
}
_NUMERIC = ("integer", "number")


class Translator:
    """Turns one filter into SQL for one collection's properties and geometry."""

    def __init__(self, properties: Mapping[str, Expr], geometry: Expr, crs: CrsRef) -> None:
        self.properties = properties
        self.geometry = geometry
        self.crs = crs

    def condition(self, node: Any) -> ColumnElement[bool]:
        """SQL for a boolean node; InvalidInput for anything not offered."""
        if isinstance(node, ast.And):
            return and_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node))
        if isinstance(node, ast.Include):
            return false() if node.not_ else true()
        if isinstance(node, bool):
            return true() if node else false()
        for kind, compare in _COMPARE.items():
            if type(node) is kind:
                lhs, rhs = self._pair(node.lhs, node.rhs)
                result: ColumnElement[bool] = compare(lhs, rhs)
                return result
        return self._predicate(node)

    def _predicate(self, node: Any) -> ColumnElement[bool]:
        if isinstance(node, ast.Between):
            lhs, low = self._pair(node.lhs, node.low)
            _, high = self._pair(node.lhs, node.high)
            found: ColumnElement[bool] = lhs.between(low, high)
            return not_(found) if node.not_ else found
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.In):
            if not node.sub_nodes or len(node.sub_nodes) > MAX_IN:
                raise InvalidInput(f"IN 需要 1 到 {MAX_IN} 个值 (IN takes 1 to {MAX_IN} values)")
            lhs = self.scalar(node.lhs)
            listed: ColumnElement[bool] = lhs.in_([self._pair(node.lhs, v)[1]
                                                   for v in node.sub_nodes])
            return not_(listed) if node.not_ else listed
        if isinstance(node, ast.IsNull):
            lhs = self.scalar(node.lhs)
            null: ColumnElement[bool] = lhs.is_not(None) if node.not_ else lhs.is_(None)
            return null
        if type(node) in _SPATIAL:
            fn = getattr(func, _SPATIAL[type(node)])
            result: ColumnElement[bool] = fn(self.spatial(node.lhs), self.spatial(node.rhs))
            return result
        if isinstance(node, ast.DistanceWithin):
            return self._dwithin(node)
        if isinstance(node, ast.BBox):
            box = self.envelope(float(node.minx), float(node.miny), float(node.maxx),
                                 float(node.maxy))
            return func.ST_Intersects(self.spatial(node.lhs), box)
        raise InvalidInput(f"不支持的过滤运算：{type(node).__name__} "
                           f"(unsupported filter operation: {type(node).__name__})")

    def _like(self, node: Any) -> ColumnElement[bool]:
        lhs = self.scalar(node.lhs)
        if kind_of(lhs) != "string" or not isinstance(node.pattern, str):
            raise InvalidInput("LIKE 只用于文本属性和文本模式 (LIKE compares a text property with "
                               "a text pattern)")
        # CQL2's wildcards are SQL's (% and _), with backslash as the escape character.
        found: ColumnElement[bool] = lhs.like(bindparam(None, node.pattern, type_=lhs.type),
                                              escape="\\")
        return not_(found) if node.not_ else found

    def _dwithin(self, node: Any) -> ColumnElement[bool]:
        distance = float(node.distance)
        if not 0 <= distance <= MAX_DISTANCE_M:
            raise InvalidInput(f"S_DWITHIN 的距离须在 0 到 {MAX_DISTANCE_M:g} 米之间 "
                               f"(S_DWITHIN distance must be 0 to {MAX_DISTANCE_M:g} metres)")
        lhs, rhs = self.spatial(node.lhs), self.spatial(node.rhs)
        # An envelope in degrees that surely holds every point within the distance (a degree of
        # longitude is shortest at the geometry's highest latitude), so the GiST index is used;
        # then the exact test in metres on the spheroid.
        metres = literal(distance, Float())
        lat = func.least(89.0, func.greatest(func.abs(func.ST_YMin(rhs)),
                                             func.abs(func.ST_YMax(rhs))) + metres / 110_000.0)
        degrees = metres / (110_000.0 * func.cos(func.radians(lat)))
        return and_(lhs.op("&&")(func.ST_Expand(rhs, degrees)),
                    func.ST_DWithin(cast(lhs, Geography()), cast(rhs, Geography()), metres))

    # --- operands ---------------------------------------------------------------------------

    def scalar(self, node: Any) -> Any:
        """A property or a function of one (CASEI/LOWER, UPPER)."""
        if isinstance(node, ast.Attribute):
            if node.name in GEOMETRY_NAMES:
                raise InvalidInput(f"几何属性 {node.name} 只能用于空间运算 "
                                   f"(the geometry '{node.name}' is compared by spatial operators only)")
            expr = self.properties.get(node.name)
            if expr is None:
                raise unknown_property(node.name, self.properties, "filter")
            return expr
        if isinstance(node, ast.Function) and node.name in ("lower", "upper") and len(node.arguments) == 1:
            inner = self.scalar(node.arguments[0])
            return getattr(func, node.name)(inner)
        raise InvalidInput("比较的左边须是属性 (the left side of a comparison must be a property)")

    def _pair(self, lhs_node: Any, rhs_node: Any) -> tuple[Any, Any]:
        """The property and the value it is compared with, bound with the property's type."""
        if not _is_property(lhs_node) and _is_property(rhs_node):
            lhs_node, rhs_node = rhs_node, lhs_node
        lhs = self.scalar(lhs_node)
        kind = kind_of(lhs)
        if _is_property(rhs_node):
            rhs = self.scalar(rhs_node)
            if kind != kind_of(rhs) and not {kind, kind_of(rhs)} <= set(_NUMERIC):
                raise InvalidInput("比较的两个属性类型不同 (the two properties compared differ in type)")
            return lhs, rhs
        if isinstance(rhs_node, ast.Function) and rhs_node.name in ("lower", "upper"):
            inner = rhs_node.arguments[0] if rhs_node.arguments else None
            return lhs, getattr(func, rhs_node.name)(self._value(inner, kind, lhs))
        return lhs, self._value(rhs_node, kind, lhs)

    def _value(self, value: Any, kind: str, lhs: Any) -> Any:
        name = getattr(getattr(lhs, "key", None), "__str__", lambda: "")() or kind
        if kind == "string" and isinstance(value, str):
            return bindparam(None, value, type_=lhs.type)
        if kind in _NUMERIC and isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value) or abs(value) >= MAX_NUMBER:
                raise InvalidInput(f"数值超出范围：{str(value)[:40]} (number out of range)")
            return bindparam(None, value, type_=lhs.type if isinstance(value, int) else Float())
        if kind == "boolean" and isinstance(value, bool):
            return bindparam(None, value, type_=lhs.type)
        if kind == "datetime":
            return bindparam(None, _instant(value), type_=TIMESTAMP(timezone=True))
        raise InvalidInput(f"值 {str(value)[:40]!r} 与属性类型 {kind} 不符 "
                           f"(value {str(value)[:40]!r} does not fit a {kind} property {name})")

    def spatial(self, node: Any) -> Any:
        """The collection's geometry, or a geometry literal in ``filter-crs`` as WGS84."""
        if isinstance(node, ast.Attribute):
            if node.name in GEOMETRY_NAMES:
                return self.geometry
            raise InvalidInput(f"属性 {node.name[:40]} 不是几何 (property '{node.name[:40]}' is "
                               f"not a geometry; use 'geometry')")
        if isinstance(node, values.Geometry):
            return self._literal(node.geometry)
        if isinstance(node, values.Envelope):
            return self.envelope(min(node.x1, node.x2), min(node.y1, node.y2),
                                  max(node.x1, node.x2), max(node.y1, node.y2))
        if isinstance(node, ast.Function) and node.name == "bbox" and len(node.arguments) in (4, 6):
            args = node.arguments
            if not all(isinstance(a, int | float) for a in args):
                raise InvalidInput("BBOX 须是数字 (BBOX takes numbers)")
            minx, miny, maxx, maxy = (args[0], args[1], args[2], args[3]) if len(args) == 4 else (
                args[0], args[1], args[3], args[4])
            return self.envelope(float(minx), float(miny), float(maxx), float(maxy))
        raise InvalidInput("空间运算需要几何属性和几何值 (a spatial operator takes the geometry and "
                           "a geometry literal)")

    def _literal(self, geometry: Mapping[str, Any]) -> Any:
        plain = _plain(geometry)
        self._check(plain)
        text = json.dumps(plain)
        geom = func.ST_SetSRID(func.ST_GeomFromGeoJSON(bindparam(None, text)), self.crs.srid)
        return self._to_storage(geom)

    def _check(self, geometry: Any) -> None:
        """A valid geometry with at most :data:`MAX_VERTICES` finite coordinates in range."""
        try:
            shape = shapely.geometry.shape(geometry)
            coords = shapely.get_coordinates(shape)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                shapely.errors.ShapelyError):
            raise InvalidInput("过滤条件中的几何无效 (invalid geometry in the filter)") from None
        if len(coords) > MAX_VERTICES:
            raise InvalidInput(f"几何顶点过多（最多 {MAX_VERTICES}） (geometry has too many "
                               f"vertices, max {MAX_VERTICES})")
        if len(coords) == 0 or not shape.is_valid:
            raise InvalidInput("过滤条件中的几何无效 (invalid geometry in the filter)")
        for x, y in coords:
            self._in_range(float(x), float(y))

    def _in_range(self, x: float, y: float) -> None:
        if self.crs.lat_lon:
            x, y = y, x
        lo_x, lo_y, hi_x, hi_y = PROJECTED_RANGE if self.crs.projected else GEOGRAPHIC_RANGE
        if not (math.isfinite(x) and math.isfinite(y) and lo_x <= x <= hi_x and lo_y <= y <= hi_y):
            raise InvalidInput(f"坐标超出坐标系范围：{x:.6g}, {y:.6g} (coordinates outside the "
                               f"CRS's range)")

    def envelope(self, minx: float, miny: float, maxx: float, maxy: float) -> Any:
        self._in_range(minx, miny)
        self._in_range(maxx, maxy)
        if self.crs.lat_lon:  # the four numbers are lat, lon, lat, lon
            minx, miny, maxx, maxy = miny, minx, maxy, maxx
        box = func.ST_MakeEnvelope(minx, miny, maxx, maxy, self.crs.srid)
        return func.ST_Transform(box, STORAGE_SRID) if self.crs.projected else box

    def _to_storage(self, geom: Any) -> Any:
        if self.crs.lat_lon:
            return func.ST_FlipCoordinates(geom)
        if self.crs.projected:
            return func.ST_Transform(geom, STORAGE_SRID)
        return geom


def in_box(geometry: Expr, box: Any) -> ColumnElement[bool]:
    """Rows whose geometry meets ``box`` (index test, then the exact one)."""
    return and_(geometry.op("&&")(box), func.ST_Intersects(geometry, box))


def in_interval(column: Expr, start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    """Rows whose instant lies in [start, end] (an open end: None)."""
    found: list[ColumnElement[bool]] = []
    if start is not None:
        found.append(column >= start)
    if end is not None:
        found.append(column <= end)
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_property(node: Any) -> bool:
    return isinstance(node, ast.Attribute) or (
        isinstance(node, ast.Function) and node.name in ("lower", "upper")
        and len(node.arguments) == 1 and isinstance(node.arguments[0], ast.Attribute))


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise InvalidInput(f"时间值无效：{str(value)[:40]!r} (invalid instant; use TIMESTAMP('…Z'))")


def unknown_property(name: str, known: Mapping[str, Any] | list[str], where: str) -> InvalidInput:
    """The 400 for a property the collection does not have, naming it and the known ones."""
    names = ", ".join(known)
    return InvalidInput(f"{where} 中的属性不存在：{name[:40]!r}；可用：{names} "
                        f"(unknown property '{name[:40]}' in {where}; known: {names})")
