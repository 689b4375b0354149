"""From a file's columns to a layer's fields: parse ``--map field=column``, propose a mapping
from the columns' names, and convert the values (codes, text, counts) with a problem per bad
value rather than an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
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


def _texts(values: pd.Series) -> pd.Series:
    """Values as stripped text (None where empty or missing); a whole number stored as a float
    (a spreadsheet's code) is written without its ``.0``."""
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    present = values.notna()
    if not present.any():
        return out
    kept = values[present]
    if pd.api.types.is_float_dtype(kept):
        whole = kept == kept.round()
        text = kept.astype(str)
        text[whole] = kept[whole].astype("int64").astype(str)
    elif pd.api.types.is_integer_dtype(kept) or pd.api.types.is_bool_dtype(kept):
        text = kept.astype(str)
    else:
        text = kept.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                        else str(v))
    text = text.str.strip()
    out[present] = text.where(text != "", None)
    return out


_CONTROL = r"[\x00-\x1f]"


def convert(spec: LayerSpec, source: gpd.GeoDataFrame, mapping: Mapping[str, str],
            ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """The file's features with the layer's fields (and ``row``, 1-based, and ``geometry``);
    a problem for each value that is not what its field takes (the value is left empty).

    Vectorised per column (a city's 120,000 buildings convert in well under a second); the
    rows with a problem are then named one by one."""
    problems: list[Problem] = []
    out = pd.DataFrame({"row": range(1, len(source) + 1)}, index=source.index)
    keys = (_texts(source[mapping["code"]]).fillna("").tolist() if "code" in mapping
            else [""] * len(source))
    for fld in spec.fields:
        column = mapping.get(fld.name)
        if column is None:
            out[fld.name] = pd.Series([None] * len(source), index=source.index, dtype=object)
            continue
        raw = source[column]
        text = _texts(raw)
        bad = pd.Series("", index=source.index, dtype=object)
        present = text.notna()
        holds = text[present]
        bad[holds.index[holds.str.contains(_CONTROL, regex=True)]] = "control_characters"
        bad[holds.index[holds.str.len() > fld.max_chars]] = "too_long"
        if fld.kind is Kind.CODE:
            bad[holds.index[~holds.str.fullmatch(r"[0-9]+") & (bad[holds.index] == "")]] = \
                "code_not_digits"
        value: pd.Series = text
        if fld.kind is Kind.COUNT:
            number = pd.to_numeric(holds, errors="coerce")
            bad[number.index[number.isna() & (bad[number.index] == "")]] = "not_a_number"
            fractional = number.notna() & (number != number.round())
            bad[number.index[fractional & (bad[number.index] == "")]] = "not_an_integer"
            good = number.notna() & ~fractional
            value = pd.Series([None] * len(source), index=source.index, dtype=object)
            value[good[good].index] = number[good].astype("int64").astype(object)
        value = value.where(bad == "", None).astype(object)
        out[fld.name] = value
        for i in np.flatnonzero((bad != "").to_numpy()):
            code = bad.iloc[i]
            shown = str(raw.iloc[i])[:40]
            zh, en = _SAID[code]
            if code == "too_long":
                zh, en = f"超过 {fld.max_chars} 个字符", f"is longer than {fld.max_chars}"
            problems.append(Problem(int(i) + 1, keys[i], fld.name, code, f"{column} 的值 {shown!r} {zh}",
                                    f"{column} value {shown!r} {en}"))
    return gpd.GeoDataFrame(out, geometry=source.geometry.values, crs=source.crs), problems


_SAID = {"control_characters": ("含控制字符", "holds control characters"),
         "too_long": ("过长", "is too long"),
         "code_not_digits": ("不是数字代码", "is not a code of digits"),
         "not_a_number": ("不是数字", "is not a number"),
         "not_an_integer": ("不是整数", "is not a whole number")}
