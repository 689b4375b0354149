"""Import buildings or facilities from an OpenStreetMap extract (PBF or XML): the features are
taken from the extract by :mod:`gridmap.exchange.osm_features`, fitted to the loaded city here,
and then go through the same mapping, checks, staging, dry run, report, modes and record as any
file (:func:`gridmap.exchange.services.imports.run`).

An extract is cut by a box (or a country), not by our grids, so what lies outside is left out
and counted in the report rather than refused one by one: features outside the city, and
buildings whose inner point is in no grid (the grids must be loaded first). An extract that lies
mostly outside the city is refused, as for the streets. Counts of people are unknown in OSM:
a new building gets 0 (the columns hold no unknown) and the report says how many, so coverage's
rates weighted by residents or elderly are not read as complete; a building already loaded
under the same code keeps its counts.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.errors import InvalidInput
from gridmap.exchange import osm_features, reading
from gridmap.exchange.report import Problem, Severity
from gridmap.exchange.repositories import osm as repo
from gridmap.exchange.repositories import staging
from gridmap.exchange.rules import ensure_exchanger
from gridmap.exchange.services import imports
from gridmap.exchange.services.streets import MIN_INSIDE

LAYERS = ("buildings", "facilities")
SUFFIXES = (".osm", ".pbf")
MAX_PLACES = 5000
"""The places of left-out buildings the report shows on its map (one multipoint)."""


def applies(options: imports.Options) -> bool:
    """Whether ``options`` import buildings or facilities from an OSM file."""
    return options.layer in LAYERS and options.path.name.lower().endswith(SUFFIXES)


def run(factory: sessionmaker[Session], principal: Principal, options: imports.Options,
        progress: imports.Progress = lambda fraction, line: None, *,
        tags: Path | None = None) -> imports.Outcome:
    """Import ``options.layer`` from the OSM extract ``options.path`` with the tag mapping in
    ``tags`` (the shipped one by default); raises as :func:`imports.run` does."""
    ensure_exchanger(principal)
    if options.crs or options.encoding or options.source_layer:
        raise InvalidInput("OpenStreetMap 文件总是 WGS84、UTF-8，且图层由导入决定：请去掉 --crs、"
                           "--encoding 和 --layer (an OpenStreetMap extract is WGS84 and UTF-8, "
                           "and its layers are chosen by the import)")
    mapping = osm_features.load_tags(tags)
    return imports.run(factory, principal, options, progress,
                       read=partial(_read, factory, mapping))


def _note(code: str, zh: str, en: str, where: BaseGeometry | None = None) -> Problem:
    return Problem(None, "", "file", code, zh, en, Severity.NOTE, where)


def _skipped(found: Counter[str], what_zh: str, what_en: str) -> list[Problem]:
    if not found:
        return []
    top = ", ".join(f"{why} ×{n}" for why, n in found.most_common(12))
    total = sum(found.values())
    return [_note("osm_skipped", f"跳过 {total} 个不是{what_zh}的 OSM 要素：{top}",
                  f"{total} OSM features left out as not {what_en}: {top}")]


def _extract(session: Session, mapping: osm_features.TagMapping,
             options: imports.Options) -> tuple[osm_features.Extract, list[Problem]]:
    """The extract's buildings or facilities, and what was left out."""
    path = options.path
    if options.layer == "buildings":
        extract = osm_features.buildings(osm_features.read_layer(path, "multipolygons"), mapping)
        notes = _skipped(extract.skipped, "楼院", "buildings")
        if extract.parts_dropped:
            notes.append(_note("osm_parts_dropped",
                               f"{extract.parts_dropped} 个多部分楼院只保留了最大的部分",
                               f"{extract.parts_dropped} buildings of several parts: the largest "
                               "part kept"))
        return extract, notes
    names = repo.facility_type_names(session)
    unknown = sorted(mapping.types - set(names))
    if unknown:
        raise InvalidInput(f"{mapping.file}：未知设施类型 {', '.join(unknown)}，可用："
                           f"{', '.join(sorted(names))} (the tag mapping names unknown facility "
                           "types)")
    layers = [(layer, osm_features.read_layer(path, layer)) for layer in ("points",
                                                                          "multipolygons")]
    extract = osm_features.facilities(layers, mapping, names)
    return extract, _skipped(extract.skipped, "设施", "facilities")


_NONE = {"buildings": ("楼院（building=*）", "buildings (building=*)"),
         "facilities": ("符合标签映射的设施", "facilities matching the tag mapping")}


def _read(factory: sessionmaker[Session], mapping: osm_features.TagMapping,
          options: imports.Options) -> reading.Source:
    """The extract's buildings or facilities, fitted to the loaded city (see the module)."""
    with factory() as session:
        extract, notes = _extract(session, mapping, options)
        if extract.frame.empty:
            zh, en = _NONE[options.layer]
            raise InvalidInput(f"{options.path.name}：文件中没有{zh}，未写入任何数据 "
                               f"(the extract holds no {en}; nothing written)")
        frame, found = _fit(session, extract.frame, options)
    return reading.Source(frame=frame, crs="EPSG:4326", layer=options.layer, driver="OSM",
                          encoding="utf-8", notes=(*notes, *found))


def _fit(session: Session, frame: gpd.GeoDataFrame,
         options: imports.Options) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Leave out what lies outside the city (refusing an extract of another place) and, for
    buildings, outside every grid; fill the counts of buildings already loaded."""
    notes: list[Problem] = []
    name = options.path.name
    geoms = np.asarray(frame.geometry.values, dtype=object)
    extent = staging.city_extent(session)
    if extent is not None:
        xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
        inside = ((xy[:, 0] >= extent[0]) & (xy[:, 0] <= extent[2])
                  & (xy[:, 1] >= extent[1]) & (xy[:, 1] <= extent[3]))
        if inside.mean() < MIN_INSIDE:
            raise InvalidInput(f"{name}：有 {1 - inside.mean():.0%} 的要素在本市范围之外，"
                               "是否选错了地区的 OSM 文件？ (most of the features lie outside the "
                               "city: an extract of another place?)")
        if not inside.all():
            notes.append(_note("osm_outside_city", f"{int((~inside).sum())} 个要素在本市范围之外，"
                               "未导入", f"{int((~inside).sum())} features lie outside the city: "
                               "left out"))
            frame, geoms = frame[inside].reset_index(drop=True), geoms[inside]
    if options.layer != "buildings":
        return frame, notes
    in_grid = repo.in_grids(session, shapely.to_wkb(geoms).tolist())
    if not in_grid.any():
        raise InvalidInput(f"{name}：{len(frame)} 栋楼院都不在已导入的网格内（请先导入网格），"
                           f"未写入任何数据 (none of the {len(frame)} buildings lies in a loaded "
                           "grid: import the grids first; nothing written)")
    if not in_grid.all():
        out = geoms[~in_grid][:MAX_PLACES]
        notes.append(_note("osm_outside_grids", f"{int((~in_grid).sum())} 栋楼院不在任何网格内，"
                           "未导入", f"{int((~in_grid).sum())} buildings lie in no grid: left out",
                           shapely.MultiPoint(shapely.point_on_surface(out).tolist())))
        frame = frame[in_grid].reset_index(drop=True)
    return _with_counts(session, frame, notes)


def _with_counts(session: Session, frame: gpd.GeoDataFrame,
                 notes: list[Problem]) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Buildings already loaded keep their counts; the others' are unknown (noted)."""
    loaded = repo.loaded_counts(session, frame["code"].tolist())
    frame = frame.copy()
    for i, column in enumerate(repo.COUNTS):
        frame[column] = [loaded[c][i] if c in loaded else None for c in frame["code"]]
    kept = sum(1 for counts in loaded.values() if any(counts))
    unknown = len(frame) - kept
    if unknown:
        notes.append(_note(
            "counts_unknown",
            f"{unknown} 栋楼院没有户数、人口和老人数（OpenStreetMap 中没有），按 0 存储：覆盖率中按"
            f"居民或老人加权的比例不含它们，请另行导入人口数据（{kept} 栋已有楼院保留原有数字）",
            f"{unknown} buildings have no households, residents or elderly counts (OpenStreetMap "
            "has none): stored as 0, so coverage rates weighted by residents or elderly leave "
            f"them out until counts are imported ({kept} buildings already loaded keep theirs)"))
    return frame, notes
