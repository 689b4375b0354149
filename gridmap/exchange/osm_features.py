"""OpenStreetMap buildings and facilities as import layers: footprints with their name and
address, and service points whose facility type comes from a tag mapping kept as data
(``osm_tags.toml`` beside this module, replaced with ``--tags FILE``).

Read through GDAL's OSM driver like the streets (:mod:`gridmap.exchange.osm`): nodes from its
``points`` layer, closed ways and multipolygon relations from ``multipolygons``. A feature's code
is its OSM id (``osm:n1``, ``osm:w2``, ``osm:r3``: OSM numbers nodes, ways and relations apart),
so the same extract imported again changes nothing and a newer one updates by id. The result is
a frame with the layer's own field names, which then goes through the same mapping, checks,
staging and write as any file.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.errors import InvalidInput
from gridmap.exchange.osm import tags as other_tags

TAGS_FILE = Path(__file__).with_name("osm_tags.toml")
"""The tag mapping shipped with gridmap."""
_MAX_CHARS = 200
"""A text field's limit (:mod:`gridmap.exchange.layers`): longer OSM text is cut, not refused."""
_CONTROL = re.compile(r"[\x00-\x1f]+")
_CJK = re.compile(r"[\u3400-\u9fff]$")
_NOT_TAGS = {"osm_id", "osm_way_id", "other_tags", "geometry", "all_tags"}
_TOPICS = ("amenity", "leisure", "social_facility", "healthcare", "office", "shop", "tourism")
"""Keys whose value says what an unmatched feature is, in the report's count of what was
skipped (``amenity=bench``); then keys that say enough alone (``building=*``)."""
_KINDS = ("building", "landuse", "natural", "man_made", "barrier")


@dataclass(frozen=True)
class Rule:
    """One line of the facility mapping: the type of the features it matches."""

    type: str
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Key to accepted values; an empty tuple accepts any value."""
    name_contains: tuple[str, ...] = ()
    max_area_m2: float | None = None

    def matches_tags(self, tags: Mapping[str, str]) -> bool:
        """Whether ``tags`` satisfy the rule's tags and name (its area aside)."""
        for key, values in self.tags.items():
            value = tags.get(key)
            if value is None or (values and value not in values):
                return False
        if self.name_contains:
            name = tags.get("name") or ""
            return any(part in name for part in self.name_contains)
        return True


@dataclass(frozen=True)
class TagMapping:
    """Which buildings to skip and which facility type each tagged feature takes."""

    skip_buildings: frozenset[str]
    ignore_keys: frozenset[str]
    rules: tuple[Rule, ...]
    file: str

    @property
    def types(self) -> set[str]:
        """The facility types the rules name."""
        return {r.type for r in self.rules}


@dataclass(frozen=True)
class Extract:
    """The features for a layer (its fields and a WGS84 geometry) and what was left out."""

    frame: gpd.GeoDataFrame
    skipped: Counter[str]
    """Features left out, counted by why (``building=garage``, ``amenity=bench`` …)."""
    parts_dropped: int = 0
    """Multipolygon buildings of several parts: only the largest part is kept."""


def _bad(path: Path, en: str, zh: str) -> InvalidInput:
    return InvalidInput(f"{path.name}：{zh} (the tag mapping {en})")


def _values(path: Path, where: str, raw: Any) -> tuple[str, ...]:
    if raw == "*":
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and raw and all(isinstance(v, str) for v in raw):
        return tuple(raw)
    raise _bad(path, f"{where}: a value is a text, a list of texts or \"*\"",
               f"{where} 的值须为文本、文本列表或 \"*\"")


def _rule(path: Path, i: int, raw: Any) -> Rule:
    where = f"rule {i}"
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise _bad(path, f"{where} needs a type", f"第 {i} 条规则缺少 type")
    unknown = set(raw) - {"type", "tags", "name_contains", "max_area_m2"}
    if unknown:
        raise _bad(path, f"{where} has unknown keys {sorted(unknown)}",
                   f"第 {i} 条规则有未知的键 {sorted(unknown)}")
    tags = raw.get("tags", {})
    if not isinstance(tags, dict):
        raise _bad(path, f"{where}: tags is a table", f"第 {i} 条规则的 tags 须为表")
    names = raw.get("name_contains", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise _bad(path, f"{where}: name_contains is a list of texts",
                   f"第 {i} 条规则的 name_contains 须为文本列表")
    if not tags and not names:
        raise _bad(path, f"{where} matches everything (give tags or name_contains)",
                   f"第 {i} 条规则没有条件（须有 tags 或 name_contains）")
    area = raw.get("max_area_m2")
    if area is not None and (isinstance(area, bool) or not isinstance(area, int | float)
                             or area <= 0):
        raise _bad(path, f"{where}: max_area_m2 is a positive number",
                   f"第 {i} 条规则的 max_area_m2 须为正数")
    return Rule(raw["type"], {str(k): _values(path, where, v) for k, v in tags.items()},
                tuple(names), float(area) if area is not None else None)


def load_tags(path: Path | None = None) -> TagMapping:
    """The tag mapping in ``path`` (TOML; see the shipped ``osm_tags.toml``), by default the
    shipped one; InvalidInput naming what is wrong."""
    path = path or TAGS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _bad(path, f"cannot be read: {str(exc)[:160]}", "无法读取标签映射文件") from None
    buildings = data.get("buildings", {})
    facilities = data.get("facilities", {})
    skip = buildings.get("skip", []) if isinstance(buildings, dict) else None
    ignore = facilities.get("ignore", []) if isinstance(facilities, dict) else None
    rules = facilities.get("rule", []) if isinstance(facilities, dict) else None
    if not isinstance(skip, list) or not isinstance(ignore, list) or not isinstance(rules, list):
        raise _bad(path, "needs [buildings] skip = […], [facilities] ignore = […] and "
                   "[[facilities.rule]] tables", "须含 [buildings] skip、[facilities] ignore 和 "
                   "[[facilities.rule]]")
    return TagMapping(frozenset(map(str, skip)), frozenset(map(str, ignore)),
                      tuple(_rule(path, i, r) for i, r in enumerate(rules, 1)), path.name)


def read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    """One layer of an OSM file (``points`` or ``multipolygons``) with every tag."""
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # noqa: BLE001 - GDAL's many errors: one clear message
        raise InvalidInput(f"{path.name}：无法作为 OSM 文件读取（需 .osm 或 .osm.pbf）：{str(exc)[:160]} "
                           "(cannot read it as OpenStreetMap data)") from None


def feature_tags(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every feature's tags: GDAL's own columns and its ``other_tags``."""
    columns = [c for c in frame.columns if c not in _NOT_TAGS]
    values = [frame[c].to_numpy(dtype=object) for c in columns]
    extra = frame["other_tags"].to_numpy(dtype=object) if "other_tags" in frame else None
    out: list[dict[str, str]] = []
    for i in range(len(frame)):
        row = other_tags(extra[i]) if extra is not None else {}
        for c, v in zip(columns, values, strict=True):
            if isinstance(v[i], str) and v[i]:
                row[c] = v[i]
        out.append(row)
    return out


def _ids(frame: pd.DataFrame, kind: str) -> list[str]:
    """``osm:n1`` … for points; ``osm:w2`` (a closed way) or ``osm:r3`` (a relation) for
    multipolygons."""
    def whole(v: object) -> str | None:
        return None if v is None or pd.isna(v) else str(int(float(str(v))))

    own = [whole(v) for v in frame["osm_id"].to_numpy(dtype=object)]
    if kind == "points":
        return [f"osm:n{i}" for i in own]
    ways = [whole(v) for v in frame["osm_way_id"].to_numpy(dtype=object)]
    return [f"osm:w{w}" if w is not None else f"osm:r{r}" for r, w in zip(own, ways, strict=True)]


def _text(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = _CONTROL.sub(" ", value).strip()[:_MAX_CHARS]
    return cleaned or None


def address(tags: Mapping[str, str]) -> str | None:
    """``addr:full``, else street and house number (without a space after a Chinese street
    name: 团结路3号)."""
    if tags.get("addr:full"):
        return _text(tags["addr:full"])
    street, number = tags.get("addr:street", ""), tags.get("addr:housenumber", "")
    joint = "" if _CJK.search(street) else " "
    return _text(joint.join(p for p in (street, number) if p))


def _largest(geom: BaseGeometry) -> tuple[BaseGeometry, bool]:
    """A multipolygon's largest part (and whether parts were dropped); a polygon as it is."""
    parts = list(getattr(geom, "geoms", [geom]))
    if len(parts) == 1:
        return parts[0], False
    return max(parts, key=lambda p: p.area), True  # compared within one feature: degrees do


def buildings(areas: gpd.GeoDataFrame, mapping: TagMapping) -> Extract:
    """The buildings among the ``multipolygons`` of an OSM file: code, name, address and the
    footprint (a polygon: of a multipolygon of several parts, the largest)."""
    tags = feature_tags(areas)
    codes = _ids(areas, "multipolygons")
    skipped: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry] = []
    dropped = 0
    for t, code, geom in zip(tags, codes, areas.geometry.to_numpy(dtype=object), strict=True):
        value = t.get("building")
        if not value or geom is None:
            continue
        if value in mapping.skip_buildings:
            skipped[f"building={value}"] += 1
            continue
        shape, cut = _largest(geom)
        dropped += cut
        where = address(t)
        name = _text(t.get("name")) or _text(t.get("addr:housename")) or where or code
        rows.append({"code": code, "name": name, "address": where})
        geoms.append(shape)
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["code", "name", "address"]),
                             geometry=geoms, crs="EPSG:4326")
    return Extract(frame, skipped, dropped)


def _area_m2(geom: BaseGeometry) -> float:
    area, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return abs(float(area))


def _skip_reason(tags: Mapping[str, str]) -> str:
    for key in _TOPICS:
        if key in tags:
            return f"{key}={tags[key]}"
    return next((f"{key}=*" for key in _KINDS if key in tags), "other")


def classify(tags: Mapping[str, str], geom: BaseGeometry, mapping: TagMapping) -> tuple[str | None,
                                                                                      str]:
    """The facility type of a feature (None when no rule takes it) and, if none, why."""
    if any(k in tags for k in mapping.ignore_keys):
        return None, "ignored"
    too_large = ""
    for rule in mapping.rules:
        if not rule.matches_tags(tags):
            continue
        if (rule.max_area_m2 is not None and geom.geom_type != "Point"
                and _area_m2(geom) > rule.max_area_m2):
            too_large = f"{rule.type}: > {rule.max_area_m2:g} m²"
            continue
        return rule.type, ""
    return None, too_large or _skip_reason(tags)


def _count(tags: Mapping[str, str]) -> int | None:
    value = tags.get("capacity", "").strip()
    return int(value) if value.isdigit() and len(value) < 6 else None


def facilities(layers: Sequence[tuple[str, gpd.GeoDataFrame]], mapping: TagMapping,
               names: Mapping[str, str]) -> Extract:
    """The facilities among the ``points`` and ``multipolygons`` of an OSM file: code, type,
    name (else the type's name in ``names``), capacity, opening hours, and a point (a polygon's
    point on surface). Features without tags are not counted as skipped."""
    rows: list[dict[str, Any]] = []
    points: list[BaseGeometry] = []
    skipped: Counter[str] = Counter()
    for kind, frame in layers:
        codes = _ids(frame, kind)
        for t, code, geom in zip(feature_tags(frame), codes, frame.geometry.to_numpy(dtype=object),
                                 strict=True):
            if not t or geom is None:
                continue
            kind_of, why = classify(t, geom, mapping)
            if kind_of is None:
                if why != "ignored":
                    skipped[why] += 1
                continue
            rows.append({"code": code, "type": kind_of,
                         "name": _text(t.get("name")) or names.get(kind_of, kind_of),
                         "capacity": _count(t), "hours": _text(t.get("opening_hours"))})
            points.append(geom if geom.geom_type == "Point" else shapely.point_on_surface(geom))
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["code", "type", "name", "capacity",
                                                         "hours"]),
                             geometry=np.asarray(points, dtype=object) if points else [],
                             crs="EPSG:4326")
    return Extract(frame, skipped)
