"""CQL2 text and CQL2 JSON filters parsed by pygeofilter into its AST (no SQL here).

pygeofilter's CQL2 grammars lack ``S_DWITHIN`` (an extension of CQL2's spatial functions that
OGC API clients send for "within N metres"); the text grammar is extended with it here, reusing
pygeofilter's own grammar file and transformer, and the JSON walker is wrapped to read
``{"op": "s_dwithin", "args": [a, b, distance]}``. Everything else is pygeofilter's parse.
A malformed filter is an InvalidInput with the parser's line, column and expectation.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import lark
from pygeofilter import ast
from pygeofilter.parsers.cql2_json import parser as cql2_json
from pygeofilter.parsers.cql2_text import parser as cql2_text

from gridmap.errors import InvalidInput

TEXT, JSON = "cql2-text", "cql2-json"
LANGUAGES = (TEXT, JSON)
MAX_FILTER_CHARS = 20_000
MAX_JSON_DEPTH = 40
_DWITHIN = """
%extend spatial_predicate: "S_DWITHIN"i "(" expression "," expression "," full_number \
    ["," attribute] ")" -> dwithin_predicate
"""


@lark.v_args(inline=True)
class _Transformer(cql2_text.CQLTransformer):  # type: ignore[misc]
    def dwithin_predicate(self, lhs: Any, rhs: Any, distance: Any, units: Any = None) -> Any:
        return ast.DistanceWithin(lhs, rhs, float(distance), "meters")


@cache
def _text_parser() -> lark.Lark:
    package = resources.files("pygeofilter.parsers")
    grammar = (package / "cql2_text" / "grammar.lark").read_text() + _DWITHIN
    return lark.Lark(grammar, parser="lalr", maybe_placeholders=False,
                     transformer=_Transformer(), import_paths=[str(package)])


def parse(text: str, lang: str | None) -> ast.Node:
    """The AST of ``text`` in ``lang`` (``cql2-text`` by default); InvalidInput if malformed."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput(f"过滤条件过长（最多 {MAX_FILTER_CHARS} 个字符） "
                           f"(filter too long, max {MAX_FILTER_CHARS} characters)")
    language = (lang or TEXT).strip().lower()
    if language == JSON:
        return _parse_json(text)
    if language != TEXT:
        raise InvalidInput(f"filter-lang 只能是 {' 或 '.join(LANGUAGES)}：{language[:40]!r} "
                           f"(filter-lang must be one of {', '.join(LANGUAGES)})")
    try:
        node: ast.Node = _text_parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise InvalidInput(_position_message(exc)) from None
    except (lark.exceptions.LarkError, ValueError, OverflowError) as exc:  # a value refused
        raise InvalidInput(f"CQL2 过滤条件无效 (invalid CQL2 filter: {_first_line(exc)})") from None
    return node


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _position_message(exc: lark.exceptions.UnexpectedInput) -> str:
    expected = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    names = sorted(str(x) for x in expected if not str(x).startswith("__"))[:12]
    hint = f"; expected one of: {', '.join(names)}" if names else ""
    return (f"CQL2 过滤条件语法错误：第 {exc.line} 行第 {exc.column} 列 "
            f"(CQL2 syntax error at line {exc.line}, column {exc.column}{hint})")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _parse_json(text: str) -> ast.Node:
    try:
        data = json.loads(text)
    except ValueError as exc:
        pos = getattr(exc, "pos", None)
        raise InvalidInput(f"CQL2 JSON 不是有效的 JSON（位置 {pos}） "
                           f"(CQL2 JSON is not valid JSON at position {pos})") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise InvalidInput(f"CQL2 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层） "
                           f"(CQL2 JSON nested too deep, max {MAX_JSON_DEPTH})")
    try:
        return _walk(_envelopes(data))
    except InvalidInput:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise InvalidInput(f"CQL2 JSON 过滤条件无效 (invalid CQL2 JSON filter: "
                           f"{_first_line(exc)})") from None


def _envelopes(node: Any) -> Any:
    """``{"bbox": [minx, miny, maxx, maxy]}`` as a GeoJSON polygon (pygeofilter 0.4 reads the
    four numbers in another order)."""
    if isinstance(node, list):
        return [_envelopes(v) for v in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if len(node) == 1 and isinstance(box, list) and len(box) == 4:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
            raise ValueError("a bbox holds four numbers")
        x1, y1, x2, y2 = box
        return {"type": "Polygon",
                "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}
    return {k: _envelopes(v) for k, v in node.items()}


def _walk(node: Any) -> ast.Node:
    """pygeofilter's walker, with the boolean operators walked here so that an ``s_dwithin``
    anywhere among them is read too."""
    if not isinstance(node, dict) or "op" not in node:
        raise ValueError("a CQL2 JSON filter is an object with 'op' and 'args'")
    op, args = node["op"], node.get("args")
    if not isinstance(op, str) or not isinstance(args, list):
        raise ValueError("'op' must be a string and 'args' a list")
    op = op.lower()
    if op in ("and", "or"):
        if len(args) < 2:
            raise ValueError(f"'{op}' needs at least two arguments")
        parts = [_walk(a) for a in args]
        combined: ast.Node = (ast.And if op == "and" else ast.Or).from_items(*parts)
        return combined
    if op == "not":
        if len(args) != 1:
            raise ValueError("'not' takes one argument")
        return ast.Not(_walk(args[0]))
    if op == "between" and len(args) == 3:  # CQL2 1.0; pygeofilter reads the draft's [x, [lo, hi]]
        return ast.Between(*(cql2_json.walk_cql_json(a) for a in args), False)
    if op == "s_dwithin":
        if len(args) not in (3, 4) or not isinstance(args[2], int | float) or isinstance(args[2], bool):
            raise ValueError("'s_dwithin' takes two geometries and a distance in metres")
        return ast.DistanceWithin(cql2_json.walk_cql_json(args[0]),
                                  cql2_json.walk_cql_json(args[1]), float(args[2]), "meters")
    result: ast.Node = cql2_json.walk_cql_json(node)
    return result
