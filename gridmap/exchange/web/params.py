"""Parse the data page's requests: an import's options (multipart form) and an export's query.
Every failure is an InvalidInput naming the field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from gridmap import codes
from gridmap.errors import InvalidInput
from gridmap.exchange.layers import LAYERS
from gridmap.exchange.rules import FORMATS, STREETS
from gridmap.web import params

_TEXT = 200
_COLUMN = 120
_TOKEN = 64


@dataclass(frozen=True)
class ImportRequest:
    """An import's options as the page sends them, and which upload to use again."""

    options: dict[str, Any]
    token: str | None
    name: str | None


def _mapping(raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    text = params.clean_text(raw, "mapping", max_chars=20_000)
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInput("mapping 须为 JSON 对象 (mapping must be a JSON object)") from None
    if not isinstance(value, dict) or len(value) > 50:
        raise InvalidInput("mapping 须为 {\"字段\": \"列名\"} 形式的 JSON 对象 (mapping must be a "
                           "JSON object of field: column)")
    out: dict[str, str] = {}
    for key, column in value.items():
        if column in (None, ""):
            continue
        if not isinstance(column, str):
            raise InvalidInput(f"mapping 中 {params.shown(key)} 的列名须为文本 (a column name is text)")
        out[params.clean_text(key, "mapping", max_chars=40)] = params.clean_text(
            column, "mapping", max_chars=_COLUMN)
    return out


def import_request(fields: Mapping[str, Any]) -> ImportRequest:
    """The form of ``POST /api/imports``."""
    layer = params.choice(fields, "layer", (*LAYERS, STREETS))
    if layer is None:
        raise InvalidInput("请选择图层 (choose a layer)")
    mode = params.choice(fields, "mode", ("upsert", "replace"), default="upsert")
    encoding = params.choice(fields, "encoding", ("utf-8", "gbk"), default="") or None
    tolerance = params.number(fields, "tolerance") if fields.get("tolerance") not in (None, "") \
        else 10.0
    if not 0 <= tolerance <= 100_000:
        raise InvalidInput("tolerance 须在 0–100000 m² 之间 (tolerance must be 0..100000 m²)")
    options: dict[str, Any] = {
        "layer": layer, "mode": cast(Literal["upsert", "replace"], mode),
        "crs": params.text(fields, "crs", max_chars=80).strip() or None,
        "encoding": encoding,
        "source_layer": params.text(fields, "source_layer", max_chars=_COLUMN).strip() or None,
        "repair": params.flag(fields, "repair"), "whole_layer": params.flag(fields, "whole_layer"),
        "dry_run": params.flag(fields, "dry_run"), "tolerance_m2": tolerance,
        "source": params.text(fields, "source", max_chars=_TEXT).strip(),
        "licence": params.text(fields, "licence", max_chars=_TEXT).strip(),
        "mapping": _mapping(fields.get("mapping")),
    }
    token = params.text(fields, "upload", max_chars=_TOKEN).strip() or None
    name = params.text(fields, "upload_name", max_chars=_COLUMN + 10).strip() or None
    return ImportRequest(options, token, name)


@dataclass(frozen=True)
class ExportQuery:
    """An export's query string."""

    crs: str
    area: str | None
    facility_type: str | None
    encoding: str


def export_query(layer: str, fmt: str, args: Mapping[str, Any]) -> ExportQuery:
    """``GET /api/exports/<layer>.<fmt>?crs=…&area=…&type=…&encoding=…``."""
    if layer not in (*LAYERS, STREETS):
        raise InvalidInput(f"未知图层 {params.shown(layer)} (unknown layer)")
    if fmt not in FORMATS:
        raise InvalidInput(f"未知格式 {params.shown(fmt)}，可选：{', '.join(FORMATS)} "
                           "(unknown format)")
    area = params.area(args)
    return ExportQuery(crs=params.text(args, "crs", max_chars=80).strip() or "wgs84",
                       area=area.prefix(),
                       facility_type=params.text(args, "type", max_chars=40).strip() or None,
                       encoding=params.choice(args, "encoding", ("utf-8", "gbk"),
                                              default="utf-8") or "utf-8")


@dataclass(frozen=True)
class FacilityEdit:
    """A facility edit's body: what to set, and where (``lon``/``lat`` in ``crs``) if moved."""

    op: str
    type: str | None
    name: str | None
    capacity: int | None
    hours: str | None
    lon: float | None
    lat: float | None
    crs: str


def facility_edit(data: Mapping[str, Any], *, adding: bool) -> FacilityEdit:
    """``{"op": "move"|"update"|"retire", "type", "name", "capacity", "hours", "lon", "lat",
    "crs"}`` (adding: no ``op``, a place required)."""
    op = "add" if adding else params.choice(data, "op", ("move", "update", "retire"))
    if op is None:
        raise InvalidInput("请指定 op：move、update 或 retire (give op: move, update or retire)")
    placed = op in ("add", "move")
    lon = params.number(data, "lon") if placed else None
    lat = params.number(data, "lat") if placed else None
    capacity = (params.integer(data, "capacity", default=-1, lo=0, hi=5000)
                if data.get("capacity") not in (None, "") else None)
    return FacilityEdit(
        op=op, type=params.text(data, "type", max_chars=40).strip() or None,
        name=params.text(data, "name", max_chars=_TEXT).strip() or None,
        capacity=capacity if capacity != -1 else None,
        hours=params.text(data, "hours", max_chars=_TEXT).strip() if "hours" in data else None,
        lon=lon, lat=lat, crs=_crs(data))


def feature_code(raw: str) -> str:
    """A facility code in a URL."""
    return params.clean_text(raw, "code", max_chars=40)


def grid_boundaries(data: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """``{"grids": {"<15-digit code>": <GeoJSON polygon>, …}, "crs": …}``."""
    grids = data.get("grids")
    if not isinstance(grids, dict) or not grids:
        raise InvalidInput("grids 须为 {网格编码: GeoJSON 面} 对象 (grids must be an object of "
                           "grid code: GeoJSON polygon)")
    out: dict[str, Any] = {}
    for code, geometry in grids.items():
        if not isinstance(geometry, dict):
            raise InvalidInput(f"网格 {params.shown(code)} 的边界须为 GeoJSON 对象 (a boundary is "
                               "a GeoJSON object)")
        out[grid_code(code)] = geometry
    return out, _crs(data)


def grid_code(raw: Any) -> str:
    """A 15-digit grid code (from a URL or a body)."""
    if not codes.is_code(str(raw), codes.Level.GRID):
        raise InvalidInput(f"网格编码 {params.shown(raw)} 须为 15 位数字 (a grid code has 15 digits)")
    return str(raw)


def _crs(data: Mapping[str, Any]) -> str:
    return params.choice(data, "crs", ("wgs84", "cgcs2000", "gcj02", "bd09"),
                         default="wgs84") or "wgs84"


@dataclass(frozen=True)
class GridSplit:
    """A split: the line (GeoJSON, in ``crs``) and names for the new grids, in order."""

    line: dict[str, Any]
    names: tuple[str, ...]
    crs: str


def grid_split(data: Mapping[str, Any]) -> GridSplit:
    """``{"line": <GeoJSON line>, "names": ["…", …], "crs": …}``."""
    line = data.get("line")
    if not isinstance(line, dict):
        raise InvalidInput("line 须为 GeoJSON 线 (line must be a GeoJSON line)")
    names = data.get("names") or []
    if not isinstance(names, list) or len(names) > 10 or not all(
            isinstance(n, str) and len(n) <= _TEXT for n in names):
        raise InvalidInput("names 须为新网格名称的列表 (names must be a list of the new grids' "
                           "names)")
    return GridSplit(line=line, names=tuple(n.strip() for n in names), crs=_crs(data))


@dataclass(frozen=True)
class GridMerge:
    """A merge: the grids, the one that goes on (its code), and its name if renamed."""

    codes: tuple[str, ...]
    keep: str
    name: str | None


def grid_merge(data: Mapping[str, Any]) -> GridMerge:
    """``{"codes": ["<15 digits>", …], "keep": "<one of them>", "name": "…"}``."""
    raw = data.get("codes")
    if not isinstance(raw, list) or not 2 <= len(raw) <= 10:
        raise InvalidInput("codes 须列出 2–10 个要合并的网格 (codes must list 2-10 grids to merge)")
    grids = tuple(dict.fromkeys(grid_code(c) for c in raw))
    if len(grids) < 2:
        raise InvalidInput("请选择至少两个不同的网格 (choose at least two different grids)")
    keep = grid_code(data.get("keep") or grids[0])
    if keep not in grids:
        raise InvalidInput(f"保留的网格 {keep} 不在所选网格中 (the grid to keep is not one of the "
                           "grids merged)")
    name = params.text(data, "name", max_chars=_TEXT).strip() or None
    return GridMerge(codes=grids, keep=keep, name=name)
