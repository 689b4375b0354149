"""Parse and validate request parameters; every failure is an InvalidInput with a clear message.

This is the one layer that turns what a client sent into typed values, so that no malformed
value reaches a service, the database or a stream (issue 11, "bad input never reaches a 500"):

- text is a string (never a list or an object), without NUL, control characters (newline and tab
  only where free text allows them) or unpaired surrogates, and no longer than its limit;
- integers are ASCII digits (not ``²``, ``１２３`` or ``1_0``) within their range, ids within
  PostgreSQL's ``bigint``; numbers are ASCII decimals and finite;
- dates lie between :data:`MIN_DAY` and :data:`MAX_DAY`;
- enumerations accept their values only (an unknown value is a 400, never ignored);
- JSON bodies are bounded in size and depth before a handler sees them.

Messages are "中文 (English)" and repeat at most :data:`SHOWN` characters of a bad value.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from flask import Flask, request
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from gridmap import codes, viewport
from gridmap.crs import InputCRS, parse_crs, to_wgs84, validate_lonlat
from gridmap.errors import InvalidInput, PayloadTooLarge

MAX_ID = 2**63 - 1
"""The largest id PostgreSQL's ``bigint`` holds; a larger one names nothing."""
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2100, 12, 31)
"""Dates a filter may name: the system holds nothing before, and nothing lives past."""
SHOWN = 40
"""Characters of a bad value a message may repeat."""
MAX_TEXT = 200
"""A one-line field's default limit (names, codes, search words)."""
MAX_FREE_TEXT = 20_000
"""Free text (a description, a note) at most, before its own rule (a service's) is applied."""
MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 20
"""A JSON body's size and nesting at most (a GeoJSON candidate layer nests 5 deep)."""
MAX_NUMBER_CHARS = 40
"""A number's text at most: longer is no coordinate, count or id (and costs int() dearly)."""
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")

_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FREE_TEXT_CONTROLS = frozenset("\n\r\t")


def shown(value: object) -> str:
    """A bad value as a message may repeat it: at most :data:`SHOWN` characters."""
    text = value if isinstance(value, str) else type(value).__name__
    text = "".join(c if c.isprintable() else "?" for c in text[:SHOWN + 1])
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _bad_character(value: str, *, multiline: bool) -> bool:
    for c in value:
        category = unicodedata.category(c)
        if category == "Cc" and not (multiline and c in _FREE_TEXT_CONTROLS):
            return True
        if category == "Cs":  # an unpaired surrogate: no encoding can store it
            return True
    return False


def clean_text(value: object, name: str, *, max_chars: int = MAX_TEXT,
               multiline: bool = False) -> str:
    """``value`` if it is a string without control characters within ``max_chars``.

    ``multiline`` free text (descriptions, notes) may hold newlines and tabs.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"参数 {name} 须为文本 ('{name}' must be a string)")
    if len(value) > max_chars:
        raise InvalidInput(f"参数 {name} 最多 {max_chars} 个字符 "
                           f"('{name}' longer than {max_chars} characters)")
    if _bad_character(value, multiline=multiline):
        raise InvalidInput(f"参数 {name} 含有不允许的控制字符 "
                           f"('{name}' holds control characters)")
    return value


def text(args: Mapping[str, Any], name: str, *, default: str = "", max_chars: int = MAX_TEXT,
         multiline: bool = False) -> str:
    """An optional text parameter (see :func:`clean_text`); ``default`` when absent."""
    value = args.get(name)
    if value is None:
        return default
    return clean_text(value, name, max_chars=max_chars, multiline=multiline)


def _as_str(raw: object, name: str) -> str:
    if isinstance(raw, bool):
        raise InvalidInput(f"参数 {name} 须为数字 ('{name}' must be a number)")
    if isinstance(raw, int | float):
        return repr(raw)
    return clean_text(raw, name, max_chars=MAX_NUMBER_CHARS)


def number(args: Mapping[str, Any], name: str) -> float:
    """A required finite float parameter, written in ASCII digits."""
    raw = args.get(name)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        raise InvalidInput(f"缺少参数 {name} (missing parameter '{name}')")
    value_text = _as_str(raw, name).strip()
    if not _NUMBER.fullmatch(value_text):
        raise InvalidInput(f"参数 {name} 不是数字：'{shown(value_text)}' ('{name}' must be a number)")
    value = float(value_text)
    if not math.isfinite(value):
        raise InvalidInput(f"参数 {name} 必须是有限数字 ('{name}' must be finite)")
    return value


def integer(args: Mapping[str, Any], name: str, *, default: int, lo: int, hi: int) -> int:
    """An optional integer parameter within [lo, hi], written in ASCII digits."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    value_text = _as_str(raw, name).strip()
    if not _INTEGER.fullmatch(value_text) or not lo <= int(value_text) <= hi:
        raise InvalidInput(f"参数 {name} 必须是 {lo}–{hi} 之间的整数 "
                           f"('{name}' must be an integer in {lo}..{hi})")
    return int(value_text)


def identifier(args: Mapping[str, Any], name: str) -> int | None:
    """An optional id (1 … :data:`MAX_ID`), None when absent."""
    value = integer(args, name, default=0, lo=1, hi=MAX_ID)
    return value or None


def choice(args: Mapping[str, Any], name: str, allowed: Collection[str], *,
           default: str | None = None) -> str | None:
    """One of ``allowed`` (an unknown value is refused, not ignored), ``default`` when absent."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    value = clean_text(raw, name)
    if value not in allowed:
        raise InvalidInput(f"参数 {name} 的值 '{shown(value)}' 无效，可选：{', '.join(allowed)} "
                           f"('{name}' must be one of {', '.join(allowed)})")
    return value


def flag(args: Mapping[str, Any], name: str) -> bool:
    """A yes/no parameter: 1/true/yes/on or 0/false/no/off (anything else is refused)."""
    raw = args.get(name)
    if isinstance(raw, bool):
        return raw
    value = (choice({name: raw.lower() if isinstance(raw, str) else raw}, name,
                    (*TRUE, *FALSE[1:]), default="")) or ""
    return value in TRUE


def check_day(value: date, name: str) -> date:
    """``value`` if it lies between :data:`MIN_DAY` and :data:`MAX_DAY`."""
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DAY <= day <= MAX_DAY:
        raise InvalidInput(f"{name} 须在 {MIN_DAY} 与 {MAX_DAY} 之间 "
                           f"('{name}' must lie between {MIN_DAY} and {MAX_DAY})")
    return value


def day(args: Mapping[str, Any], name: str) -> date | None:
    """An optional ``YYYY-MM-DD`` date between :data:`MIN_DAY` and :data:`MAX_DAY`."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    value = clean_text(raw, name)
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} 须为 YYYY-MM-DD 日期 ({name} must be a date YYYY-MM-DD)"
                           ) from None
    return check_day(parsed, name)


def point(args: Mapping[str, Any]) -> tuple[float, float, InputCRS]:
    """``lon``, ``lat`` and ``crs`` → a WGS84 (lon, lat) and the CRS it was given in."""
    lon, lat = number(args, "lon"), number(args, "lat")
    crs = parse_crs(text(args, "crs") or None)
    validate_lonlat(lon, lat)
    wlon, wlat = to_wgs84(lon, lat, crs)
    return float(wlon), float(wlat), crs


def bbox(args: Mapping[str, Any]) -> viewport.BBox | None:
    """``bbox=minx,miny,maxx,maxy`` in WGS84 degrees, or None when absent."""
    return viewport.parse_bbox(text(args, "bbox") or None)


def area(args: Mapping[str, Any]) -> codes.AreaFilter:
    """Area filters ``district``, ``subdistrict``, ``community`` as nesting official codes."""
    for level in codes.LEVELS:
        text(args, level.value, max_chars=codes.width(codes.Level.GRID))
    return codes.area_filter(args)


# --- JSON and form bodies -----------------------------------------------------------------------

def _depth(value: Any) -> int:
    """How deeply ``value`` nests (iteratively: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON


def json_body() -> Any:
    """The request's JSON body, at most :data:`MAX_JSON_BYTES` and :data:`MAX_JSON_DEPTH` deep.

    Raises
    ------
    InvalidInput
        The body is not JSON, holds NaN/Infinity, or nests too deeply.
    PayloadTooLarge
        The body is larger than allowed.
    """
    length = request.content_length
    if length is not None and length > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"请求体超过 {MAX_JSON_BYTES // (1024 * 1024)} MB "
                              f"(body larger than {MAX_JSON_BYTES // (1024 * 1024)} MB)")
    raw = request.stream.read(MAX_JSON_BYTES + 1) if length is None else request.get_data()
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"请求体超过 {MAX_JSON_BYTES // (1024 * 1024)} MB "
                              f"(body larger than {MAX_JSON_BYTES // (1024 * 1024)} MB)")
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        value = None
        too_deep = True
    except ValueError:  # also UnicodeDecodeError
        raise InvalidInput("请求体不是有效的 JSON (body is not valid JSON)") from None
    else:
        too_deep = _depth(value) > MAX_JSON_DEPTH
    if too_deep:
        raise InvalidInput(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层 "
                           f"(JSON nested deeper than {MAX_JSON_DEPTH} levels)")
    return value


def json_object() -> dict[str, Any]:
    """The request's JSON body (see :func:`json_body`), which must be an object."""
    value = json_body()
    if not isinstance(value, dict):
        raise InvalidInput("请求体须为 JSON 对象 (body must be a JSON object)")
    return value


def fields(*, lists: Collection[str] = ()) -> dict[str, Any]:
    """Form fields (urlencoded or multipart) or a JSON object, as one mapping of strings.

    JSON strings, numbers and booleans stay as they are: :func:`text` takes strings only, while
    :func:`number`, :func:`integer` and :func:`flag` take their JSON type or its form spelling, so
    one parser serves both. Only the fields named in ``lists`` may be lists, of strings; an
    object, or a list elsewhere, is refused: it must never be stored as its Python text.
    """
    if not request.is_json:
        form = request.form
        for name, value in form.items(multi=True):
            clean_text(name, "field", max_chars=SHOWN)
            clean_text(value, name, max_chars=MAX_JSON_BYTES, multiline=True)
        return {k: (form.getlist(k) if k in lists else form[k]) for k in form}
    out: dict[str, Any] = {}
    for name, value in json_object().items():
        if value is None:
            continue
        if isinstance(value, str | int | float):  # bool is an int
            out[name] = value
        elif name in lists and isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[name] = value
        else:
            raise InvalidInput(f"参数 {shown(name)} 须为文本 ('{shown(name)}' must be a string)")
    return out


# --- the whole request ---------------------------------------------------------------------------

def _check_request() -> None:
    """Refuse control characters anywhere in the path or query string, and in form fields
    (where newlines and tabs may stand in free text), before any handler reads them."""
    if _bad_character(request.path, multiline=False):
        raise InvalidInput("网址含有不允许的控制字符 (the URL holds control characters)")
    for name, value in request.args.items(multi=True):
        if _bad_character(name, multiline=False) or _bad_character(value, multiline=False):
            raise InvalidInput(f"参数 {shown(name)} 含有不允许的控制字符 "
                               f"('{shown(name)}' holds control characters)")
    # A multipart body is read by its handler, under the limit its photos set (the case API's
    # fields() checks its fields then); an urlencoded one is small and read here.
    if request.mimetype == "application/x-www-form-urlencoded":
        for name, value in request.form.items(multi=True):
            if _bad_character(name, multiline=False) or _bad_character(value, multiline=True):
                raise InvalidInput(f"参数 {shown(name)} 含有不允许的控制字符 "
                                   f"('{shown(name)}' holds control characters)")


class IdConverter(IntegerConverter):
    """``<int:…>`` in a URL: ASCII digits up to :data:`MAX_ID` (anything else is a 404)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app: Flask) -> None:
    """Bounded ids in URLs and the request-wide text check; before any blueprint is added."""
    converters: dict[str, type[BaseConverter]] = app.url_map.converters
    converters["int"] = IdConverter
    app.before_request_funcs.setdefault(None, []).insert(0, _check_request)
