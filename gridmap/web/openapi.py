"""The OpenAPI 3.1 document of the whole HTTP API, built from the app's URL map (apispec).

Every URL rule gets a baseline operation with no work from its feature: the path and its
parameters from the rule's converters, the methods, a summary and description from the view's
docstring, the media type its path implies (``.geojson``, ``.csv``, a page), the error answers
every endpoint can give (the ``{"error": {"code", "message"}}`` object), and the security the
view's ``@require`` decorator declares (roles in ``x-gridmap-roles``). So a new endpoint is in
the document the moment it is routed, and the completeness test passes.

Detail is added next to the handler, in one of two ways (merged over the baseline, key by key;
a ``parameters`` list is merged by name):

- ``@documented(parameters=[query("limit", INTEGER)], responses={200: ok(schema)})`` on a view,
  optionally ``method="post"`` when one view serves several methods;
- a dict ``{endpoint: {method: operation}}`` handed to :func:`describe` in the feature's
  ``web.register`` (``"*"`` for every method), e.g. ``describe(app, OPERATIONS)``.

The helpers below (:func:`query`, :func:`json_body`, :func:`form_body`, :func:`ok`) keep those
short. :func:`document` gives the whole document or the part under a prefix (the OGC API's
service description asks for ``/ogc``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from apispec import APISpec
from flask import Flask
from werkzeug.routing import Rule

from gridmap.crs import InputCRS
from gridmap.web.params import MAX_ID

V = TypeVar("V", bound=Callable[..., Any])
Operation = dict[str, Any]
_REGISTRY = "gridmap.openapi.operations"
_CACHE = "gridmap.openapi.document"
_ATTRIBUTE = "gridmap_openapi"
METHODS = ("get", "post", "put", "patch", "delete")

EXCLUDED: dict[str, str] = {
    "static": "the app's own JS/CSS/images (files, not an API)",
    "assets.vendor_file": "whitelisted npm files (files, not an API)",
}
"""Endpoints left out of the document on purpose, with the reason."""

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "machine-readable, e.g. invalid_input"},
            "message": {"type": "string", "description": "中文 (English): safe to show"},
            "places": {"type": "object", "description": "GeoJSON of the problems' places "
                                                        "(a refused territory edit)"},
        },
    }},
}
ERRORS: dict[int, str] = {
    400: "输入无效 (bad input: the message names the parameter)",
    401: "未登录 (not signed in: send a session cookie or a personal API token)",
    403: "无权限 (signed in, but this role or scope may not)",
    404: "不存在或不在您的范围内 (not found, or outside the caller's scope)",
    405: "方法不允许 (method not allowed)",
    409: "冲突 (conflict: a stale version, or a question for the caller)",
    413: "请求过大 (request body too large)",
    422: "数据被拒绝 (data rejected: the problems are listed)",
    429: "请求过于频繁 (rate limited: retry after Retry-After seconds)",
    503: "服务暂不可用 (database unavailable or busy: retry after Retry-After seconds)",
}
_BASE_ERRORS = (400, 404, 405, 429, 503)
_WRITE_ERRORS = (409, 413, 422)
_SECURED_ERRORS = (401, 403)

# Schemas for parameters, shared by the features' detail.
STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
NUMBER: dict[str, Any] = {"type": "number"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
ANY_JSON: dict[str, Any] = {}
BBOX: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9.]+(,-?[0-9.]+){3}$",
                        "description": "minlon,minlat,maxlon,maxlat (WGS84)"}
DAY: dict[str, Any] = {"type": "string", "format": "date"}
CRS: dict[str, Any] = {"type": "string", "enum": [c.value for c in InputCRS],
                       "description": "coordinates' reference system (default wgs84)"}
AREA_PARAMETERS = ("district", "subdistrict", "community")
GEOJSON: dict[str, Any] = {"type": "object", "required": ["type"],
                           "properties": {"type": {"const": "FeatureCollection"},
                                          "features": {"type": "array"}}}


def query(name: str, schema: Mapping[str, Any], description: str = "", *,
          required: bool = False) -> dict[str, Any]:
    """A query parameter."""
    found: dict[str, Any] = {"name": name, "in": "query", "schema": dict(schema),
                             "required": required}
    if description:
        found["description"] = description
    return found


def area_query() -> list[dict[str, Any]]:
    """The area filter every map and list endpoint takes (codes of 6, 9 or 12 digits)."""
    return [query(name, {"type": "string", "pattern": f"^[0-9]{{{width}}}$"}, f"{name} code")
            for name, width in zip(AREA_PARAMETERS, (6, 9, 12), strict=True)]


def _object(properties: Mapping[str, Mapping[str, Any]], required: Iterable[str]) -> dict[str, Any]:
    return {"type": "object", "properties": {k: dict(v) for k, v in properties.items()},
            "required": list(required)}


def json_body(properties: Mapping[str, Mapping[str, Any]], required: Iterable[str] = (), *,
              multipart: bool = False) -> dict[str, Any]:
    """A JSON request body (an object with these members); ``multipart``: also as a form with
    files (photos)."""
    schema = _object(properties, required)
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if multipart:
        content["multipart/form-data"] = {"schema": schema}
    return {"required": True, "content": content}


def form_body(properties: Mapping[str, Mapping[str, Any]],
              required: Iterable[str] = ()) -> dict[str, Any]:
    """A form request body (``application/x-www-form-urlencoded`` or multipart)."""
    schema = _object(properties, required)
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema},
                                          "multipart/form-data": {"schema": schema}}}


def ok(schema: Mapping[str, Any] | None = None, description: str = "OK", *,
       media: str = "application/json", headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A success response whose body has ``schema`` in ``media``."""
    found: dict[str, Any] = {"description": description,
                             "content": {media: {"schema": dict(schema or {})}}}
    if headers:
        found["headers"] = dict(headers)
    return found


def documented(*, method: str = "*", **operation: Any) -> Callable[[V], V]:
    """Attach OpenAPI detail to a view, merged over the baseline its URL rule gives."""

    def attach(view: V) -> V:
        docs: dict[str, Operation] = view.__dict__.setdefault(_ATTRIBUTE, {})
        docs[method.lower()] = _merge(docs.get(method.lower(), {}), operation)
        return view

    return attach


def describe(app: Flask, operations: Mapping[str, Mapping[str, Operation]]) -> None:
    """Register detail for endpoints, ``{endpoint: {method or "*": operation}}``."""
    registry: dict[str, dict[str, Operation]] = app.extensions.setdefault(_REGISTRY, {})
    for endpoint, by_method in operations.items():
        mine = registry.setdefault(endpoint, {})
        for method, operation in by_method.items():
            mine[method.lower()] = _merge(mine.get(method.lower(), {}), operation)
    app.extensions.pop(_CACHE, None)


def _merge(base: Operation, extra: Mapping[str, Any]) -> Operation:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if key == "parameters":
            by_name = {(p["name"], p["in"]): p for p in merged.get("parameters", [])}
            by_name.update({(p["name"], p["in"]): copy.deepcopy(p) for p in value})
            merged["parameters"] = list(by_name.values())
        elif (isinstance(value, Mapping) and isinstance(merged.get(key), dict)
              and "$ref" not in merged[key]):  # detail replaces a shared error answer
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "IdConverter": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    "IntegerConverter": {"type": "integer", "minimum": 0},
    "PathConverter": {"type": "string"},
    "UnicodeConverter": {"type": "string", "pattern": "^[^/]+$"},
}


def _path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path of ``rule`` and its path parameters."""
    parameters = []
    for name, converter in rule._converters.items():  # noqa: SLF001 (werkzeug has no public one)
        schema = dict(_CONVERTER_SCHEMAS.get(type(converter).__name__, {"type": "string"}))
        items = getattr(converter, "items", None)  # AnyConverter
        if items:
            schema = {"type": "string", "enum": sorted(items)}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), parameters


def _media(path: str) -> str:
    if path.endswith(".geojson"):
        return "application/geo+json"
    if path.endswith(".csv"):
        return "text/csv"
    if path == "/metrics":
        return "text/plain"  # Prometheus' text format
    if path.startswith("/api/"):
        return "application/json"
    return "text/html"


def _summary(view: Callable[..., Any]) -> tuple[str, str]:
    doc = (view.__doc__ or "").strip()
    first = " ".join(doc.split("\n\n")[0].split())
    summary = first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "…"
    return summary, " ".join(doc.split()) if doc else ""


def _security(method: str) -> list[dict[str, list[str]]]:
    cookie: dict[str, list[str]] = {"session": [], "csrf": []} if method != "get" else {"session": []}
    return [{"token": []}, cookie]


def baseline(rule: Rule, method: str, view: Callable[..., Any]) -> Operation:
    """What the URL map and the view alone say about one operation."""
    path, parameters = _path(rule)
    summary, description = _summary(view)
    media = _media(path)
    operation: Operation = {
        "operationId": f"{rule.endpoint}.{method}",
        "tags": [rule.endpoint.split(".")[0] if "." in rule.endpoint else "app"],
        "summary": summary or rule.endpoint, "description": description,
        "parameters": parameters,
        "responses": {"200": ok(GEOJSON if media == "application/geo+json" else None,
                                media=media)},
    }
    codes = list(_BASE_ERRORS) + (list(_WRITE_ERRORS) if method != "get" else [])
    if hasattr(view, "gridmap_roles"):
        roles = view.gridmap_roles
        operation["security"] = _security(method)
        operation["x-gridmap-roles"] = sorted(str(r) for r in roles) if roles else "any account"
        codes += list(_SECURED_ERRORS)
        if media == "text/html" and method == "get":
            operation["responses"]["302"] = {"description": "not signed in: to the sign-in page"}
    elif method != "get":
        codes += [403]  # a CSRF token missing, an Open311 key refused
    for code in sorted(codes):
        operation["responses"][str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return operation


def _operations(app: Flask, rule: Rule) -> dict[str, Operation]:
    view = app.view_functions[rule.endpoint]
    attached: dict[str, Operation] = getattr(view, _ATTRIBUTE, {})
    registered = app.extensions.get(_REGISTRY, {}).get(rule.endpoint, {})
    found = {}
    for method in sorted(m.lower() for m in (rule.methods or ()) if m.lower() in METHODS):
        operation = baseline(rule, method, view)
        for extra in (attached, registered):
            operation = _merge(operation, extra.get("*", {}))
            operation = _merge(operation, extra.get(method, {}))
        found[method] = operation
    return found


def _components(spec: APISpec) -> None:
    spec.components.schema("Error", ERROR_SCHEMA)
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                     "text/html": {"schema": {"type": "string"}}}
    for code, text in ERRORS.items():
        spec.components.response(f"E{code}", {"description": text, "content": error_content})
    spec.components.security_scheme("token", {
        "type": "http", "scheme": "bearer", "bearerFormat": "gmt_…",
        "description": "a personal API token (账号页 → 个人令牌): `Authorization: Bearer gmt_…`; "
                       "no CSRF token needed"})
    spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "gridmap_session",
        "description": "the browser's session after signing in at /login"})
    spec.components.security_scheme("open311_key", {
        "type": "apiKey", "in": "query", "name": "api_key",
        "description": "an Open311 client's key (administrators issue them); sent as the "
                       "form field api_key of POST requests"})
    spec.components.security_scheme("csrf", {
        "type": "apiKey", "in": "header", "name": "X-CSRFToken",
        "description": "with the session cookie, state-changing requests carry the page's CSRF "
                       "token"})


def build(app: Flask) -> dict[str, Any]:
    """Build the document from the URL map and the registered detail (not cached)."""
    spec = APISpec(
        title="gridmap HTTP API", version="1", openapi_version="3.1.0",
        info={"description": "网格化管理地图与案件系统的 HTTP 接口 (gridmap's HTTP API): territory "
                             "layers, cases, coverage, data exchange, accounts, jobs, Open311 "
                             "GeoReport v2. Errors are `{\"error\": {\"code\", \"message\"}}`."},
    )
    _components(spec)
    paths: dict[str, dict[str, Operation]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED:
            continue
        path, _ = _path(rule)
        paths.setdefault(path, {}).update(_operations(app, rule))
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


def document(app: Flask, *, prefix: str = "") -> dict[str, Any]:
    """The OpenAPI document (built once per app: the URL map is fixed after start-up);
    ``prefix``: only the paths under it (e.g. ``/ogc`` for the OGC API's service description)."""
    whole: dict[str, Any] = app.extensions.get(_CACHE) or build(app)
    app.extensions[_CACHE] = whole
    if not prefix:
        return whole
    part = copy.deepcopy(whole)
    part["paths"] = {p: v for p, v in whole["paths"].items() if p.startswith(prefix)}
    return part
