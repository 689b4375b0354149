"""OGC API Features answers, framework-free: documents as dicts, items as streamed text.

The web layer parses nothing but the URL and the format; it passes the query arguments here,
where they are checked (:mod:`gridmap.ogc.query`) before the first byte is streamed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import writers
from gridmap.access import Principal
from gridmap.coverage.services import compute as coverage_compute
from gridmap.errors import InvalidInput, NotFound
from gridmap.ogc import cql2, crs_refs, cursor, query
from gridmap.ogc.crs_refs import CrsRef
from gridmap.ogc.repositories import items as repo
from gridmap.ogc.repositories.catalogue import Collection, Condition, Expr, kind_of, sortable
from gridmap.ogc.repositories.filters import Translator, in_box, in_interval, unknown_property
from gridmap.ogc.services import collections as catalogue
from gridmap.tiles.services import catalogue as tile_catalogue
from gridmap.tiles.services import documents as tile_documents

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    *tile_documents.CONFORMANCE,  # OGC API Tiles, served at /ogc/collections/{id}/tiles
)
GEOJSON = "application/geo+json"
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
_GEOMETRY_SCHEMA = {"point": "geometry-point", "line": "geometry-linestring",
                    "polygon": "geometry-polygon"}


@dataclass(frozen=True)
class Context:
    """Who asks, in which language, at which base URL (``…/ogc``)."""

    factory: sessionmaker[Session]
    principal: Principal
    lang: str
    base: str


ZONE_TTL_S = 60.0
"""How long a process keeps the Gauss-Krüger zone it looked up: the zone follows the loaded
territory's extent, which changes only when a city's districts are (re)loaded."""
_zones: dict[int, tuple[float, tuple[CrsRef, ...]]] = {}


def offered_crs(factory: sessionmaker[Session]) -> tuple[CrsRef, ...]:
    """The CRSs every collection offers, with the city's Gauss-Krüger zone chosen from the
    loaded territory as the coverage code chooses it (kept :data:`ZONE_TTL_S` seconds)."""
    now = time.monotonic()
    kept = _zones.get(id(factory))
    if kept is not None and now - kept[0] < ZONE_TTL_S:
        return kept[1]
    found = _offered_crs(factory)
    _zones[id(factory)] = (now, found)
    return found


def _offered_crs(factory: sessionmaker[Session]) -> tuple[CrsRef, ...]:
    with factory() as session:
        try:
            zone = coverage_compute.metric_srid(session)
        except NotFound:
            zone = 4550  # nothing loaded: Shenyang's zone, so the documents stay well-formed
    return crs_refs.offered(zone)


def _link(href: str, rel: str, kind: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": kind, "title": title}


def _alternates(href: str, json_type: str, title: str) -> list[dict[str, str]]:
    sep = "&" if "?" in href else "?"
    return [_link(f"{href}{sep}f=json", "self", json_type, title),
            _link(f"{href}{sep}f=html", "alternate", "text/html", title + " (HTML)")]


def landing(ctx: Context, *, service_doc: str) -> dict[str, Any]:
    """The landing page: title and the links to the API's description (its OpenAPI 3.1
    document and the reference page ``service_doc``), conformance and collections."""
    base = ctx.base
    return {
        "title": "网格地图 OGC API Features (gridmap)",
        "description": "辖区、楼院、街巷、设施、案件（公开视图）与覆盖分析 (territory, buildings, "
                       "streets, facilities, public cases and coverage)",
        "links": [*_alternates(base + "/", "application/json", "Landing page"),
                  _link(base + "/api", "service-desc",
                        "application/vnd.oai.openapi+json;version=3.1", "OpenAPI 3.1"),
                  _link(service_doc, "service-doc", "text/html", "API reference"),
                  _link(base + "/conformance", "conformance", "application/json", "Conformance"),
                  _link(base + "/collections", "data", "application/json", "Collections")],
    }


def conformance() -> dict[str, Any]:
    """The conformance classes implemented."""
    return {"conformsTo": list(CONFORMANCE)}


def _describe(ctx: Context, coll: Collection, choices: tuple[CrsRef, ...],
              extent: tuple[float, ...] | None) -> dict[str, Any]:
    url = f"{ctx.base}/collections/{coll.id}"
    title = coll.title_en if ctx.lang == "en" else coll.title_zh
    found: dict[str, Any] = {
        "id": coll.id, "title": title, "description": coll.description, "itemType": "feature",
        "crs": [c.uri for c in choices], "storageCrs": crs_refs.CRS84,
        "links": [*_alternates(url, "application/json", title),
                  _link(f"{url}/items?f=json", "items", GEOJSON, title),
                  _link(f"{url}/items?f=html", "items", "text/html", title + " (HTML)"),
                  _link(f"{url}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                        "application/schema+json", "Queryables"),
                  _link(f"{url}/sortables", "http://www.opengis.net/def/rel/ogc/1.0/sortables",
                        "application/schema+json", "Sortables")],
    }
    if coll.id in tile_catalogue.TILESETS:  # the same layer as vector tiles
        found["links"].append(_link(f"{url}/tiles", TILESETS_REL, "application/json",
                                    title + " (vector tiles)"))
    if extent is not None:
        found["extent"] = {"spatial": {"bbox": [list(extent)], "crs": crs_refs.CRS84}}
    if coll.time is not None:
        found.setdefault("extent", {})["temporal"] = {
            "interval": [[None, None]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return found


def _territory_extent(factory: sessionmaker[Session]) -> tuple[float, ...] | None:
    from gridmap.models import District

    with factory() as session:
        return repo.extent(session, District, District.geom, ())


def collections_doc(ctx: Context) -> dict[str, Any]:
    """Every collection the principal may read, described."""
    choices, extent = offered_crs(ctx.factory), _territory_extent(ctx.factory)
    found = catalogue.collections(ctx.factory, ctx.principal)
    return {"links": _alternates(ctx.base + "/collections", "application/json", "Collections"),
            "crs": [c.uri for c in choices],
            "collections": [_describe(ctx, c, choices, extent) for c in found]}


def collection_doc(ctx: Context, ident: str) -> dict[str, Any]:
    """One collection, described."""
    coll = catalogue.collection(ctx.factory, ctx.principal, ident)
    return _describe(ctx, coll, offered_crs(ctx.factory), _territory_extent(ctx.factory))


def _schema_type(kind: str) -> dict[str, Any]:
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    return {"type": kind}


def queryables(ctx: Context, ident: str, *, only_sortable: bool = False) -> dict[str, Any]:
    """The collection's queryables (or sortables) as a JSON Schema."""
    coll = catalogue.collection(ctx.factory, ctx.principal, ident)
    props: dict[str, Any] = {}
    if not only_sortable:
        props["geometry"] = {"format": _GEOMETRY_SCHEMA.get(coll.geometry_type, "geometry-any"),
                             "x-ogc-role": "primary-geometry"}
    for name, expr in coll.columns(ctx.lang, ctx.principal):
        if only_sortable and not sortable(expr):
            continue
        props[name] = {"title": name, **_schema_type(kind_of(expr))}
    suffix = "sortables" if only_sortable else "queryables"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{ctx.base}/collections/{coll.id}/{suffix}", "type": "object",
            "title": coll.title_en if ctx.lang == "en" else coll.title_zh,
            "properties": props, "additionalProperties": False}


@dataclass(frozen=True)
class ItemsAnswer:
    """An items page: its headers and its body (streamed chunks)."""

    headers: dict[str, str]
    chunks: Iterator[str]
    personal: bool


def _sort_keys(coll: Collection, columns: Mapping[str, Expr],
               asked: tuple[tuple[str, bool], ...]) -> list[repo.SortKey]:
    keys = []
    for name, descending in asked:
        expr = columns.get(name)
        if expr is None:
            raise unknown_property(name, list(columns), "sortby")
        if not sortable(expr):
            raise InvalidInput(f"属性 {name} 不可排序 (property '{name}' is not sortable; see "
                               "/sortables)")
        keys.append(repo.SortKey(name, expr, descending))
    last = keys[-1].descending if keys else False
    return [*keys, repo.SortKey("id", coll.id_column, last)]


def _conditions(ctx: Context, coll: Collection, q: query.ItemsQuery, columns: Mapping[str, Expr],
                choices: tuple[CrsRef, ...]) -> list[Condition]:
    geometry = coll.geometry(ctx.principal)
    found = list(coll.conditions(ctx.principal))
    if q.bbox is not None:
        ref = crs_refs.parse(q.bbox_crs, choices, "bbox-crs")
        found.append(in_box(geometry, Translator(columns, geometry, ref).envelope(*q.bbox)))
    elif q.bbox_crs is not None:
        crs_refs.parse(q.bbox_crs, choices, "bbox-crs")
    if q.interval is not None:
        if coll.time is None:
            raise InvalidInput(f"集合 {coll.id} 没有时间属性，不能用 datetime (collection "
                               f"'{coll.id}' has no time; datetime does not apply)")
        found += in_interval(coll.time, *q.interval)
    for name, value in q.equal:
        expr = columns[name]
        found.append(Translator(columns, geometry, crs_refs.DEFAULT).condition(
            _equality(name, value, kind_of(expr))))
    ref = crs_refs.parse(q.filter_crs, choices, "filter-crs")
    if q.filter is not None and q.filter.strip():
        node = cql2.parse(q.filter, q.filter_lang)
        found.append(Translator(columns, geometry, ref).condition(node))
    elif q.filter_lang is not None and q.filter_lang not in cql2.LANGUAGES:
        cql2.parse("", q.filter_lang)
    return found


def _equality(name: str, value: str, kind: str) -> Any:
    from pygeofilter import ast

    typed: Any = value
    if kind in ("integer", "number"):
        try:
            typed = int(value) if kind == "integer" else float(value)
        except ValueError:
            raise InvalidInput(f"属性 {name} 须是数字 (property '{name}' takes a number)") from None
    elif kind == "boolean":
        typed = value.lower() == "true"
    return ast.Equal(ast.Attribute(name), typed)


def _selected(columns: list[tuple[str, Expr]], names: tuple[str, ...] | None) -> list[tuple[str, Expr]]:
    if names is None:
        return columns
    known = dict(columns)
    for name in names:
        if name not in known:
            raise unknown_property(name, list(known), "properties")
    return [(name, known[name]) for name in names]


def items(ctx: Context, ident: str, args: Mapping[str, str], *, self_url: str) -> ItemsAnswer:
    """One page of the collection as a GeoJSON FeatureCollection, streamed: every parameter is
    checked first; ``next``/``prev`` links carry keyset cursors."""
    coll = catalogue.collection(ctx.factory, ctx.principal, ident)
    column_list = list(coll.columns(ctx.lang, ctx.principal))
    columns = dict(column_list)
    q = query.items_query(args, properties=frozenset(columns))
    choices = offered_crs(ctx.factory)
    out_crs = crs_refs.parse(q.crs, choices, "crs")
    keys = _sort_keys(coll, columns, q.sortby)
    position = cursor.decode(q.cursor, arity=len(keys)) if q.cursor else None
    if position is not None:
        position = cursor.Cursor(tuple(_typed(v, k) for v, k in zip(position.keys, keys, strict=True)),
                                 position.backward)
    conditions = _conditions(ctx, coll, q, columns, choices)
    page = repo.Page(_selected(column_list, q.properties), coll.geometry(ctx.principal),
                     conditions, keys, q.limit, position, out_crs)
    stmt = repo.page_query(coll.source, coll.id_column, page)
    headers = {"Content-Crs": f"<{out_crs.uri}>"}
    if q.limit_asked is not None:
        headers["OGC-Limit-Clamped"] = f"{q.limit_asked} -> {q.limit}"
    counting = _Count(coll.source, conditions)
    chunks = _page(ctx.factory, stmt, page, _PageLinks(self_url, args), counting, q)
    return ItemsAnswer(headers, chunks, coll.personal(ctx.principal))


def _typed(value: Any, key: repo.SortKey) -> Any:
    kind = kind_of(key.expr)
    ok = {"string": isinstance(value, str), "boolean": isinstance(value, bool),
          "integer": isinstance(value, int) and not isinstance(value, bool),
          "number": isinstance(value, int | float) and not isinstance(value, bool),
          "datetime": isinstance(value, str)}[kind]
    if not ok:
        raise InvalidInput("分页游标与排序不符 (the cursor does not fit this sort order)")
    try:
        return repo.position_value(value, key.expr, kind)
    except ValueError:
        raise InvalidInput("分页游标无效 (invalid cursor)") from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass(frozen=True)
class _PageLinks:
    url: str
    args: Mapping[str, str]

    def href(self, token: str | None) -> str:
        from urllib.parse import urlencode

        kept = {k: v for k, v in self.args.items() if k != "cursor"}
        if token is not None:
            kept["cursor"] = token
        return f"{self.url}?{urlencode(kept)}" if kept else self.url


@dataclass(frozen=True)
class _Count:
    source: Any
    conditions: list[Condition]


def _page(factory: sessionmaker[Session], stmt: Any, page: repo.Page, links: _PageLinks,
          counting: _Count, q: query.ItemsQuery) -> Iterator[str]:
    backward = page.cursor is not None and page.cursor.backward
    first: tuple[Any, ...] | None = None
    last: tuple[Any, ...] | None = None
    more = False
    n = 0
    yield '{"type":"FeatureCollection","features":['
    with factory() as session:
        buffer: list[str] = []
        first_row = last_row = None
        for row in repo.stream(session, stmt):
            if n == page.limit:  # the extra row read forward: a next page exists
                more = True
                break
            if first_row is None:
                first_row = row
            last_row = row
            buffer.append(("," if n else "") + row[0])
            n += 1
            if len(buffer) >= writers.FEATURE_CHUNK:
                yield "".join(buffer)
                buffer = []
        if buffer:
            yield "".join(buffer)
        # The cursors need the sort keys of the first and last rows only (a per-row tuple
        # cost ~10 % of a 1,000-feature page).
        if first_row is not None and last_row is not None:
            first = tuple(_plain(v) for v in first_row[1:1 + len(page.sort)])
            last = tuple(_plain(v) for v in last_row[1:1 + len(page.sort)])
            if backward:
                more = bool(last_row[-1])
        # A first page that holds everything is its own count; otherwise count (capped).
        matched = n if page.cursor is None and not more else repo.count(
            session, counting.source, counting.conditions)
    has_next = (more and not backward) or (backward and last is not None)
    has_prev = (backward and more) or (not backward and page.cursor is not None and first is not None)
    out = [_link(links.href(q.cursor), "self",
                 GEOJSON, "this page"),
           _link(links.href(None).replace("f=json", "f=html") if "f=json" in links.href(None)
                 else links.href(None) + ("&" if "?" in links.href(None) else "?") + "f=html",
                 "alternate", "text/html", "HTML")]
    if has_next and last is not None:
        out.append(_link(links.href(cursor.Cursor(last).encode()), "next", GEOJSON, "next page"))
    if has_prev and first is not None:
        out.append(_link(links.href(cursor.Cursor(first, backward=True).encode()), "prev",
                         GEOJSON, "previous page"))
    tail: dict[str, Any] = {"links": out, "numberReturned": n,
                            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds")}
    if matched is not None:
        tail["numberMatched"] = matched
    if q.limit_asked is not None:
        tail["limitClamped"] = {"requested": q.limit_asked, "applied": q.limit}
    yield "]," + json.dumps(tail, ensure_ascii=False)[1:]


def item(ctx: Context, ident: str, feature_id: str,
         args: Mapping[str, str]) -> tuple[str, dict[str, str], bool]:
    """One feature as GeoJSON text, its headers, and whether it is personal."""
    coll = catalogue.collection(ctx.factory, ctx.principal, ident)
    for key in args:
        if key not in query.FEATURE_PARAMETERS:
            raise InvalidInput(f"未知参数 {key[:40]!r} (unknown query parameter '{key[:40]}')")
    out_crs = crs_refs.parse(args.get("crs"), offered_crs(ctx.factory), "crs")
    value: Any = feature_id
    if coll.id_kind == "integer":
        if not feature_id.isascii() or not feature_id.isdigit() or len(feature_id) > 18:
            raise NotFound(f"要素 {feature_id[:40]!r} 不存在 (feature not found)")
        value = int(feature_id)
    columns = list(coll.columns(ctx.lang, ctx.principal))
    with ctx.factory() as session:
        text = repo.one(session, coll.source, coll.id_column, value, columns,
                        coll.geometry(ctx.principal), list(coll.conditions(ctx.principal)), out_crs)
    if text is None:
        raise NotFound(f"要素 {feature_id[:40]!r} 不存在 (feature not found)")
    url = f"{ctx.base}/collections/{coll.id}"
    links = [_link(f"{url}/items/{feature_id}?f=json", "self", GEOJSON, "this feature"),
             _link(f"{url}/items/{feature_id}?f=html", "alternate", "text/html", "HTML"),
             _link(f"{url}?f=json", "collection", "application/json", coll.id)]
    body = text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    return body, {"Content-Crs": f"<{out_crs.uri}>"}, coll.personal(ctx.principal)
