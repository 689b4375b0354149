"""The query parameters of OGC API Features requests, parsed and checked (pure: no Flask, no SQL).

:data:`ITEMS_PARAMETERS` describes each parameter an items request accepts (the OpenAPI
document is built from it); a parameter not listed and not a property of the collection is a
400, as Part 1 requires.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from gridmap.errors import InvalidInput

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
"""Items per page at most; a larger ``limit`` is clamped to it and said so in the answer
(header ``OGC-Limit-Clamped`` and member ``limitClamped``), not refused."""
MAX_BBOX_CHARS = 200
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")

COMMON_PARAMETERS: dict[str, str] = {
    "f": "json | html: the answer's format (default: by Accept, else JSON)",
    "lang": "zh | en: language of names and titles",
}
ITEMS_PARAMETERS: dict[str, str] = {
    **COMMON_PARAMETERS,
    "limit": f"items per page, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT}; larger is clamped)",
    "bbox": "minx,miny,maxx,maxy (4 numbers) in bbox-crs; min greater than max is a 400",
    "bbox-crs": "CRS of bbox: CRS84 (default), EPSG:4326, EPSG:4490 (lat,lon order), or the "
                "city's Gauss-Krüger zone",
    "crs": "CRS of the answer's geometries (one of the collection's crs list); Content-Crs says it",
    "datetime": "an instant or interval (a/b, '..' open) on the collection's time property",
    "filter": "a CQL2 filter on the collection's queryables",
    "filter-lang": "cql2-text (default) or cql2-json",
    "filter-crs": "CRS of geometries in the filter (default CRS84)",
    "sortby": "comma-separated sortable properties, '-' for descending",
    "properties": "comma-separated properties to return (empty: none)",
    "cursor": "opaque page position from a next/prev link",
}
FEATURE_PARAMETERS: dict[str, str] = {**COMMON_PARAMETERS, "crs": ITEMS_PARAMETERS["crs"]}


@dataclass(frozen=True)
class ItemsQuery:
    """An items request's parameters, checked."""

    limit: int = DEFAULT_LIMIT
    limit_asked: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str | None = None
    crs: str | None = None
    interval: tuple[datetime | None, datetime | None] | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    properties: tuple[str, ...] | None = None
    filter: str | None = None
    filter_lang: str | None = None
    filter_crs: str | None = None
    cursor: str | None = None
    equal: tuple[tuple[str, str], ...] = ()
    """Property=value equality filters (query parameters named after a queryable)."""


def _text(args: Mapping[str, str], name: str, max_chars: int = 200) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    if len(value) > max_chars or any(not c.isprintable() for c in value if c not in "\n\t "):
        raise InvalidInput(f"参数 {name} 无效 (parameter '{name}' is too long or holds control "
                           "characters)")
    return value


def limit(args: Mapping[str, str]) -> tuple[int, int | None]:
    """(limit applied, limit asked when it was clamped)."""
    raw = _text(args, "limit", 40)
    if raw is None or raw == "":
        return DEFAULT_LIMIT, None
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(f"limit 须是正整数：{raw[:40]!r} (limit must be a positive integer)")
    asked = int(raw)
    return (MAX_LIMIT, asked) if asked > MAX_LIMIT else (asked, None)


def _number(text: str, name: str) -> float:
    if not _NUMBER.fullmatch(text.strip()):
        raise InvalidInput(f"{name} 中有非数字：{text[:40]!r} ({name} holds a non-number)")
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput(f"{name} 中有非有限数字 ({name} holds a non-finite number)")
    return value


def bbox(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """``bbox`` as four numbers with min ≤ max (6 numbers: the heights are ignored)."""
    raw = _text(args, "bbox", MAX_BBOX_CHARS)
    if raw is None or raw == "":
        return None
    parts = [_number(p, "bbox") for p in raw.split(",")]
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise InvalidInput("bbox 须是 4 个数字：minx,miny,maxx,maxy (bbox takes 4 numbers)")
    minx, miny, maxx, maxy = parts
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox 的最小值大于最大值 (bbox minimum is greater than its maximum)")
    return minx, miny, maxx, maxy


def _instant(text: str) -> datetime | None:
    if text in ("..", ""):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"datetime 无效：{text[:40]!r}（RFC 3339，如 2024-01-01T00:00:00Z） "
                           "(invalid datetime: RFC 3339 expected)") from None
    if not 2000 <= value.year <= 2100:
        raise InvalidInput("datetime 须在 2000 到 2100 年之间 (datetime must lie in 2000-2100)")
    return value


def interval(args: Mapping[str, str]) -> tuple[datetime | None, datetime | None] | None:
    """``datetime``: an instant (start = end) or ``start/end`` with ``..`` for open ends."""
    raw = _text(args, "datetime", 100)
    if raw is None or raw == "":
        return None
    if "/" in raw:
        start_text, _, end_text = raw.partition("/")
        start, end = _instant(start_text), _instant(end_text)
        if start is not None and end is not None and start > end:
            raise InvalidInput("datetime 区间的开始晚于结束 (datetime interval starts after it ends)")
        return start, end
    when = _instant(raw)
    return when, when


def names(args: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """A comma-separated list of property names (None when absent)."""
    raw = _text(args, name, 2000)
    if raw is None:
        return None
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def sortby(args: Mapping[str, str]) -> tuple[tuple[str, bool], ...]:
    """``sortby``: (property, descending) pairs."""
    found = []
    for item in names(args, "sortby") or ():
        descending = item.startswith("-")
        found.append((item.lstrip("+-").strip(), descending))
    return tuple(found)


def items_query(args: Mapping[str, str], *, properties: frozenset[str]) -> ItemsQuery:
    """Every items parameter checked; an unknown parameter (neither one of
    :data:`ITEMS_PARAMETERS` nor a property) is a 400 naming it."""
    equal = []
    for key in args:
        if key in ITEMS_PARAMETERS:
            continue
        if key in properties:
            equal.append((key, _text(args, key) or ""))
            continue
        known = ", ".join(ITEMS_PARAMETERS)
        raise InvalidInput(f"未知参数 {key[:40]!r}；可用：{known} 及属性名 (unknown query "
                           f"parameter '{key[:40]}'; known: {known} and property names)")
    applied, asked = limit(args)
    return ItemsQuery(
        limit=applied, limit_asked=asked, bbox=bbox(args), bbox_crs=_text(args, "bbox-crs"),
        crs=_text(args, "crs"), interval=interval(args), sortby=sortby(args),
        properties=names(args, "properties"), filter=_text(args, "filter", 20_000),
        filter_lang=_text(args, "filter-lang"), filter_crs=_text(args, "filter-crs"),
        cursor=_text(args, "cursor", 2000), equal=tuple(equal))
