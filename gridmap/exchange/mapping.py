"""From a file's columns to a layer's fields: parse ``--map field=column``, propose a mapping
from the columns' names, and convert the values (codes, text, counts) with a problem per bad
value rather than an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.errors import InvalidInput
from gridmap.exchange.layers import Field, Kind, LayerSpec
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


def _texts(values: pd.Series) -> np.ndarray:
    """Values as stripped text (None where empty or missing), an object array; a whole number
    stored as a float (a spreadsheet's code) is written without its ``.0``."""
    out = np.full(len(values), None, dtype=object)
    if pd.api.types.is_float_dtype(values.dtype):
        number = values.to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(number)
        number = number[present]
        whole = (np.abs(number) < 2.0**63) & (number == np.round(number))
        text = np.array([str(v) for v in number], dtype=object)
        text[whole] = number[whole].astype(np.int64).astype(str).astype(object)
        out[present] = text
        return out
    if (pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
            ) and not values.hasnans:
        ints: np.ndarray = values.to_numpy().astype(str).astype(object)  # nothing to strip
        return ints
    kept = values.to_numpy(dtype=object)
    present = ~pd.isna(kept)
    out[present] = [(v if type(v) is str
                     else str(int(v)) if isinstance(v, float) and v.is_integer()
                     else str(v)).strip() or None for v in kept[present]]
    return out


_CONTROL = re.compile(r"[\x00-\x1f]")
_INT64_CHARS = 20
"""The longest a 64-bit integer is as text (with its sign)."""


def _whole_numbers(values: pd.Series) -> bool:
    """An integer column without gaps (booleans are not numbers here)."""
    return (pd.api.types.is_integer_dtype(values.dtype)
            and not pd.api.types.is_bool_dtype(values.dtype) and not values.hasnans)


def _flags(fld: Field, text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What is wrong with each value of a field (``""`` where nothing) and the value the field
    takes (None where missing or wrong). Whole columns at once: a rule is looked at row by row
    only when the column as a whole breaks it."""
    bad = np.full(len(text), "", dtype=object)
    at = np.flatnonzero(~pd.isna(text))
    held: list[str] = text[at].tolist()
    joined = "".join(held)
    if _CONTROL.search(joined):
        bad[at[[_CONTROL.search(t) is not None for t in held]]] = "control_characters"
    lengths = np.fromiter(map(len, held), dtype=np.int64, count=len(held))
    bad[at[lengths > fld.max_chars]] = "too_long"
    if fld.kind is Kind.CODE and not (joined.isascii() and joined.isdigit()):
        digits = np.array([t.isascii() and t.isdigit() for t in held], dtype=bool)
        bad[at[~digits & (bad[at] == "")]] = "code_not_digits"
    value = np.full(len(text), None, dtype=object)
    if fld.kind is not Kind.COUNT:
        good = bad == ""
        value[good] = text[good]
        return bad, value
    parsed = pd.to_numeric(pd.Series(held, dtype=object), errors="coerce").to_numpy(dtype=float)
    free = bad[at] == ""
    nan = ~(np.abs(parsed) < 2.0**63)  # NaN, infinite, or beyond any whole number we store
    bad[at[nan & free]] = "not_a_number"
    fractional = ~nan & (parsed != np.round(parsed))
    bad[at[fractional & free]] = "not_an_integer"
    good = free & ~nan & ~fractional
    value[at[good]] = parsed[good].astype(np.int64).astype(object)
    return bad, value


def convert(spec: LayerSpec, source: gpd.GeoDataFrame, mapping: Mapping[str, str],
            ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """The file's features with the layer's fields (and ``row``, 1-based, and ``geometry``);
    a problem for each value that is not what its field takes (the value is left empty).

    Vectorised per column (a city's 120,000 buildings convert in about a tenth of a second);
    the rows with a problem are then named one by one."""
    problems: list[Problem] = []
    n = len(source)
    columns: dict[str, Any] = {"row": np.arange(1, n + 1)}
    texts: dict[str, np.ndarray] = {}

    def text_of(column: str) -> np.ndarray:
        if column not in texts:
            texts[column] = _texts(source[column])
        return texts[column]

    keys = ([t if t is not None else "" for t in text_of(mapping["code"])] if "code" in mapping
            else [""] * n)
    for fld in spec.fields:
        column = mapping.get(fld.name)
        if column is None:
            columns[fld.name] = pd.Series([None] * n, index=source.index, dtype=object)
            continue
        raw = source[column]
        if fld.kind is Kind.COUNT and _whole_numbers(raw) and fld.max_chars >= _INT64_CHARS:
            # Integers already (a GeoPackage's, a Shapefile's): as text they could break no
            # rule on text, so they are taken as they are.
            columns[fld.name] = pd.Series(raw.to_numpy(dtype=np.int64).astype(object),
                                          index=source.index, dtype=object)
            continue
        bad, value = _flags(fld, text_of(column))
        columns[fld.name] = pd.Series(value, index=source.index, dtype=object)
        for i in np.flatnonzero(bad != ""):
            code = bad[i]
            shown = str(raw.iloc[i])[:40]
            zh, en = _SAID[code]
            if code == "too_long":
                zh, en = f"超过 {fld.max_chars} 个字符", f"is longer than {fld.max_chars}"
            problems.append(Problem(int(i) + 1, keys[i], fld.name, code, f"{column} 的值 {shown!r} {zh}",
                                    f"{column} value {shown!r} {en}"))
    out = pd.DataFrame(columns, index=source.index)
    return gpd.GeoDataFrame(out, geometry=source.geometry.values, crs=source.crs), problems


_SAID = {"control_characters": ("含控制字符", "holds control characters"),
         "too_long": ("过长", "is too long"),
         "code_not_digits": ("不是数字代码", "is not a code of digits"),
         "not_a_number": ("不是数字", "is not a number"),
         "not_an_integer": ("不是整数", "is not a whole number")}
