"""From a file's columns to a layer's fields: parse ``--map field=column``, propose a mapping
from the columns' names, and convert the values (codes, text, counts) with a problem per bad
value rather than an exception.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridmap.errors import InvalidInput
from gridmap.exchange.layers import Kind, LayerSpec
from gridmap.exchange.report import Problem

_SPACES = re.compile(r"[\s_\-]+")


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``["code=网格编码", …]`` as ``{"code": "网格编码", …}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise InvalidInput(f"映射须写成 字段=列名：{pair[:80]!r} (a mapping is field=column)")
        mapping[target.strip()] = column.strip()
    return mapping


def read_mapping_file(path: Path) -> dict[str, str]:
    """A mapping file: a JSON object ``{"field": "column", …}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path.name}：无法读取映射文件 (cannot read the mapping file: "
                           f"{str(exc)[:120]})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in data.items()):
        raise InvalidInput(f"{path.name}：映射文件须为 {{\"字段\": \"列名\"}} 形式的 JSON 对象 "
                           "(the mapping file must be a JSON object of field: column)")
    return data


def _norm(name: str) -> str:
    return _SPACES.sub("", name).lower()


def propose(spec: LayerSpec, columns: Sequence[str]) -> dict[str, str]:
    """A mapping from the columns' names: a field's own name (or the 10 characters a Shapefile
    keeps of it) or one of its synonyms, exactly (ignoring case, spaces and underscores), then
    as the column's ending (``所属网格编码``)."""
    free = {_norm(c): c for c in columns}
    proposed: dict[str, str] = {}
    for fld in spec.fields:
        names = [_norm(n) for n in (fld.name, *fld.synonyms, fld.name[:10])]
        found = next((free[n] for n in names if n in free), None)
        if found is None:
            found = next((original for norm, original in free.items()
                          if any(len(n) >= 2 and norm.endswith(n) for n in names[1:])), None)
        if found is not None:
            proposed[fld.name] = found
            free.pop(_norm(found))
    return proposed


def resolve(spec: LayerSpec, columns: Sequence[str], given: Mapping[str, str]) -> dict[str, str]:
    """The mapping to use: ``given`` over the proposal; InvalidInput for an unknown field or
    column, or a required field left unmapped (naming what the file has)."""
    unknown = sorted(set(given) - set(spec.names))
    if unknown:
        raise InvalidInput(f"图层 {spec.name} 没有字段 {', '.join(unknown)}，可用：{', '.join(spec.names)}"
                           f" (layer {spec.name} has no field {', '.join(unknown)})")
    absent = sorted(c for c in given.values() if c not in columns)
    if absent:
        raise InvalidInput(f"文件中没有列 {', '.join(absent)}，文件的列：{', '.join(columns)} "
                           f"(the file has no column {', '.join(absent)})")
    mapping = {**propose(spec, [c for c in columns if c not in given.values()]), **given}
    missing = [f.name for f in spec.fields if f.required and f.name not in mapping]
    if missing:
        hint = " ".join(f"--map {m}=列名" for m in missing)
        raise InvalidInput(f"必填字段 {', '.join(missing)} 未对应到文件的列（{', '.join(columns)}），"
                           f"请用 {hint} 指定 (required field(s) {', '.join(missing)} have no "
                           "column: name them with --map field=column)")
    return mapping


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code a spreadsheet stored as a number
    text = str(value).strip()
    return text or None


def convert(spec: LayerSpec, source: gpd.GeoDataFrame, mapping: Mapping[str, str],
            ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """The file's features with the layer's fields (and ``row``, 1-based, and ``geometry``);
    a problem for each value that is not what its field takes (the value is left empty)."""
    problems: list[Problem] = []
    out = pd.DataFrame({"row": range(1, len(source) + 1)}, index=source.index)
    keys = source[mapping["code"]].map(_text) if "code" in mapping else None
    for fld in spec.fields:
        column = mapping.get(fld.name)
        values = [None] * len(source) if column is None else source[column].tolist()
        cleaned: list[Any] = []
        for i, raw in enumerate(values):
            key = (keys.iloc[i] if keys is not None else None) or ""
            value, problem = _value(fld.kind, raw, fld.max_chars)
            if problem is not None:
                problems.append(Problem(i + 1, key, fld.name, problem[0],
                                        f"{column} 的值 {str(raw)[:40]!r} {problem[1]}",
                                        f"{column} value {str(raw)[:40]!r} {problem[2]}"))
            cleaned.append(value)
        out[fld.name] = pd.Series(cleaned, index=source.index, dtype=object)
    return gpd.GeoDataFrame(out, geometry=source.geometry.values, crs=source.crs), problems


def _value(kind: Kind, raw: Any, max_chars: int) -> tuple[Any, tuple[str, str, str] | None]:
    text = _text(raw)
    if text is None:
        return None, None
    if any(ord(ch) < 32 for ch in text):
        return None, ("control_characters", "含控制字符", "holds control characters")
    if len(text) > max_chars:
        return None, ("too_long", f"超过 {max_chars} 个字符", f"is longer than {max_chars}")
    if kind is Kind.CODE and not (text.isascii() and text.isdigit()):
        return None, ("code_not_digits", "不是数字代码", "is not a code of digits")
    if kind is Kind.COUNT:
        try:
            number = float(text)
        except ValueError:
            return None, ("not_a_number", "不是数字", "is not a number")
        if not number.is_integer():
            return None, ("not_an_integer", "不是整数", "is not a whole number")
        return int(number), None
    return text, None
