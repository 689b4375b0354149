"""Coverage analysis (覆盖分析): the page, and JSON / GeoJSON / CSV reads of stored runs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import asdict, fields
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.coverage.repositories import audit as audit_repo
from gridmap.coverage.repositories.queries import Run
from gridmap.coverage.services import audit
from gridmap.coverage.services import queries as cov
from gridmap.coverage.services import siting as plan
from gridmap.coverage.services.siting import AreaChange
from gridmap.crs import validate_lonlat
from gridmap.errors import InvalidInput, NotFound
from gridmap.web import params
from gridmap.web.db import session_factory, settings
from gridmap.web.i18n import current_lang

bp = Blueprint("coverage", __name__)

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"


def _run() -> Run:
    with session_factory()() as session:
        return cov.resolve_run(session, request.args)


def _download(body: Iterator[str], mimetype: str, filename: str, *, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})


def _name(run: Run, suffix: str) -> str:
    return f"coverage-{run.facility_type}-{run.circle}-{suffix}"


@bp.get("/coverage")
def page() -> str:
    """The coverage page: pickers, map (bands, catchments, choropleth), totals, table, chart."""
    with session_factory()() as session:
        choices = cov.choices(session, lang=current_lang())
    config = {"apiBase": request.script_root + "/api", "root": request.script_root,
              "tileUrl": settings().tile_url, "tileAttribution": settings().tile_attribution,
              **choices}
    return render_template("coverage/page.html", page_config=config)


@bp.get("/api/coverage/runs")
def runs() -> Response:
    """Current runs: facility type, circle, distance, computed_at, seconds and totals."""
    with session_factory()() as session:
        return jsonify({"runs": cov.runs(session, lang=current_lang())})


@bp.get("/api/coverage/buildings.geojson")
def buildings_geojson() -> Response:
    """Buildings with distance, band and nearest facility; capped when ``zoom`` is given."""
    run = _run()
    zoom = params.integer(request.args, "zoom", default=-1, lo=0, hi=24)
    cap = settings().layer_feature_limit if zoom >= 0 else None
    body = cov.buildings_geojson(session_factory(), run, bbox=params.bbox(request.args),
                                 zoom=zoom if zoom >= 0 else None, cap=cap)
    return _download(body, GEOJSON, _name(run, "buildings.geojson"), inline=zoom >= 0)


@bp.get("/api/coverage/buildings.csv")
def buildings_csv() -> Response:
    """Every building of the run as CSV."""
    run = _run()
    return _download(cov.buildings_csv(session_factory(), run), CSV,
                     _name(run, "buildings.csv"), inline=False)


@bp.get("/api/coverage/areas")
def areas() -> Response:
    """Areas of ``level`` (within ``parent``) with rates and uncovered elderly, worst first."""
    level, parent = cov.parse_level(request.args), cov.parse_parent(request.args)
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        rows = cov.areas(session, run, level, parent=parent)
    return jsonify({"level": level, "parent": parent, "areas": rows})


@bp.get("/api/coverage/areas.geojson")
def areas_geojson() -> Response:
    """Area polygons with their rates (for a choropleth), optionally within ``bbox``."""
    level, parent = cov.parse_level(request.args), cov.parse_parent(request.args)
    zoom = params.integer(request.args, "zoom", default=-1, lo=0, hi=24)
    run = _run()
    body = cov.areas_geojson(session_factory(), run, level, parent=parent,
                             bbox=params.bbox(request.args), zoom=zoom if zoom >= 0 else None)
    return _download(body, GEOJSON, _name(run, f"{level}.geojson"), inline=zoom >= 0)


@bp.get("/api/coverage/areas.csv")
def areas_csv() -> Response:
    """Areas of ``level`` as CSV, worst first."""
    level, parent = cov.parse_level(request.args), cov.parse_parent(request.args)
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        rows = cov.areas(session, run, level, parent=parent)
    return _download(cov.areas_csv(rows), CSV, _name(run, f"{level}.csv"), inline=False)


@bp.get("/api/coverage/distances")
def distances() -> Response:
    """Histogram of walking distances: 100 m bins to 2 km, plus buildings not reached."""
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        return jsonify(cov.distances(session, run))


@bp.get("/api/coverage/catchments.geojson")
def catchments() -> Response:
    """Walking catchments (reached street pieces) within a bbox of at most 5 km a side."""
    bbox = cov.catchment_bbox(params.bbox(request.args))
    with session_factory()() as session:
        run = cov.resolve_run(session, request.args)
        body = cov.catchments_geojson(session, run, bbox)
    return Response(body, mimetype=GEOJSON)


# ---------------------------------------------------------------------------------------------
# Planning: siting (选址建议), what-if (假设分析) and the GB 50180 audit (审计). Siting and what-if
# compute in memory from current data and store nothing; the audit reads stored runs.
# ---------------------------------------------------------------------------------------------

MAX_ADD, MAX_REMOVE, MAX_CANDIDATES = 50, 200, 5000


def _body() -> dict[str, Any]:
    """The JSON object of a POST; 400 if it is not one."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("请求体须为 JSON 对象 (body must be a JSON object)")
    return body


def _rule(session: Session, body: Mapping[str, Any]) -> tuple[str, str]:
    """``type`` and ``circle`` of a body: 400 if either is unknown (no stored run needed)."""
    args = {"type": str(body.get("type") or ""), "circle": str(body.get("circle") or "")}
    try:
        cov.resolve_run(session, args)
    except NotFound:
        pass  # siting and what-if compute from current data, not from a stored run
    return args["type"], args["circle"]


def _int(body: Mapping[str, Any], name: str, *, default: int, lo: int, hi: int) -> int:
    value = body.get(name, default)
    return params.integer({name: "" if value is None else str(value)}, name,
                          default=default, lo=lo, hi=hi)


def _area(session: Session, body: Mapping[str, Any]) -> str:
    """``area``: a 6/9/12-digit district, sub-district or community code that exists (else 404)."""
    code = str(body.get("area") or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise InvalidInput(f"区域代码无效：{code!r} (area must be a 6, 9 or 12-digit code)")
    known = session.execute(text(
        "SELECT 1 FROM district WHERE code = :c UNION ALL SELECT 1 FROM subdistrict WHERE code = :c "
        "UNION ALL SELECT 1 FROM community WHERE code = :c"), {"c": code}).first()
    if known is None:
        raise NotFound(f"没有区域 {code} (unknown area code)")
    return code


def _lonlats(value: Any, *, limit: int = MAX_ADD, name: str = "add") -> list[tuple[float, float]]:
    """``add`` (or another list): at most ``limit`` [lon, lat] pairs in WGS84."""
    if not isinstance(value, list) or len(value) > limit:
        raise InvalidInput(f"{name} 须为最多 {limit} 个 [经度, 纬度] 的列表 "
                           f"({name} must be a list of at most {limit} [lon, lat] pairs)")
    out = []
    for pair in value:
        ok = (isinstance(pair, list) and len(pair) == 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair))
        if not ok:
            raise InvalidInput(f"坐标无效：{pair!r} (each point must be [lon, lat])")
        validate_lonlat(float(pair[0]), float(pair[1]))
        out.append((float(pair[0]), float(pair[1])))
    return out


def _candidate_layer(value: Any) -> list[tuple[float, float]] | None:
    """``candidates``: the planner's candidate layer, a GeoJSON FeatureCollection of points in
    WGS84 (e.g. vacant community rooms), at most 5,000; absent = street nodes near gaps."""
    if value is None:
        return None
    features = value.get("features") if isinstance(value, dict) else None
    if not isinstance(features, list) or not features or len(features) > MAX_CANDIDATES:
        raise InvalidInput(f"候选点须为含 1–{MAX_CANDIDATES} 个点要素的 GeoJSON FeatureCollection "
                           f"(candidates must be a GeoJSON FeatureCollection of 1-{MAX_CANDIDATES} "
                           "points)")
    points = []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise InvalidInput(f"候选点第 {i + 1} 个要素不是点 (feature {i + 1} is not a Point)")
        points.append(geometry.get("coordinates"))
    return _lonlats(points, limit=MAX_CANDIDATES, name="candidates")


def _facility_ids(session: Session, facility_type: str, value: Any) -> list[int]:
    """``remove``: at most 200 facility ids (integers) or codes (strings) of the type."""
    if not isinstance(value, list) or len(value) > MAX_REMOVE:
        raise InvalidInput(f"remove 须为最多 {MAX_REMOVE} 个设施编号的列表 "
                           f"(remove must be a list of at most {MAX_REMOVE} facility ids)")
    ids = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    codes = [v for v in value if isinstance(v, str)]
    if len(ids) + len(codes) != len(value):
        raise InvalidInput("remove 的元素须为设施 id 或编码 (remove items must be ids or codes)")
    if codes:
        found = {str(c): int(i) for c, i in session.execute(text(
            "SELECT code, id FROM facility WHERE type = :t AND code = ANY(:c)"),
            {"t": facility_type, "c": codes})}
        missing = [c for c in codes if c not in found]
        if missing:
            raise InvalidInput(f"没有这些 {facility_type} 设施：{missing[:5]} (unknown facility codes)")
        ids += [int(found[c]) for c in codes]
    return ids


@bp.post("/api/coverage/siting")
def siting_sites() -> Response:
    """Up to ``k`` new sites in ``area`` maximising newly covered elderly, with their gains."""
    body = _body()
    with session_factory()() as session:
        facility_type, circle = _rule(session, body)
        k = _int(body, "k", default=10, lo=1, hi=30)
        cap = _int(body, "max_candidates", default=2000, lo=10, hi=5000)
        area = _area(session, body)
        candidates = _candidate_layer(body.get("candidates"))
        report = plan.site(session, facility_type, circle, area_code=area, k=k,
                           candidates=candidates, max_candidates=cap)
    return jsonify({**asdict(report), "elderly_uncovered": report.elderly - report.elderly_covered,
                    "command": cov.compute_command(facility_type, circle)})


@bp.post("/api/coverage/what-if")
def what_if() -> Response:
    """Coverage if ``add`` points opened and ``remove`` facilities closed; nothing is stored."""
    body = _body()
    level = cov.parse_level({"level": str(body.get("level") or "district")}, default="district")
    with session_factory()() as session:
        facility_type, circle = _rule(session, body)
        add = _lonlats(body.get("add", []))
        remove = _facility_ids(session, facility_type, body.get("remove", []))
        report = plan.what_if(session, facility_type, circle, add=add, remove=remove, level=level)
    keys = [f.name for f in fields(AreaChange) if f.name != "code"]
    totals = {k: sum(getattr(a, k) for a in report.areas) for k in keys}
    changed = [asdict(a) for a in report.areas
               if (a.residents_covered_before, a.elderly_covered_before)
               != (a.residents_covered_after, a.elderly_covered_after)]
    return jsonify({"level": level, "totals": totals, "areas": changed,
                    "buildings_gained": report.buildings_gained,
                    "buildings_lost": report.buildings_lost,
                    "changed_buildings": report.changed_buildings})


def _audit_query() -> tuple[str, str, float]:
    """``level`` (community or grid), ``area`` (a code prefix) and ``min_share`` (0, 1]."""
    level = request.args.get("level") or "community"
    if level not in ("community", "grid"):
        raise InvalidInput(f"未知层级 {level!r}；可选：community, grid (unknown level)")
    prefix = (request.args.get("area") or "").strip()
    if prefix and (not prefix.isdigit() or len(prefix) > 15):
        raise InvalidInput(f"区域代码无效：{prefix!r} (area must be a code of digits)")
    share = (params.number(request.args, "min_share") if request.args.get("min_share")
             else audit.MIN_SHARE)
    if not 0 < share <= 1:
        raise InvalidInput("min_share 须在 (0, 1] 之间 (min_share must be in (0, 1])")
    return level, prefix, share


def _audit_stream(*, with_geometry: bool) -> Iterator[dict[str, Any]]:
    level, prefix, share = _audit_query()
    factory = session_factory()

    def generate() -> Iterator[dict[str, Any]]:
        with factory() as session:
            yield from audit.rows(session, level=level, prefix=prefix, min_share=share,
                                  with_geometry=with_geometry)
    return generate()


@bp.get("/api/coverage/audit")
def audit_json() -> Response:
    """GB 50180 audit rows (one per area and required type × circle) and missing runs."""
    level, prefix, share = _audit_query()
    with session_factory()() as session:
        rows = list(audit.rows(session, level=level, prefix=prefix, min_share=share))
        missing = audit.missing_runs(session)
    return jsonify({"level": level, "area": prefix, "min_share": share, "rows": rows,
                    "missing": missing})


@bp.get("/api/coverage/audit.csv")
def audit_csv() -> Response:
    """The audit as CSV (UTF-8 with BOM), streamed."""
    level = _audit_query()[0]
    body = itertools.chain(["\ufeff"], audit.to_csv(_audit_stream(with_geometry=False)))
    return _download(body, CSV, f"gb50180-audit-{level}.csv", inline=False)


@bp.get("/api/coverage/audit.geojson")
def audit_geojson() -> Response:
    """The audit as GeoJSON (one feature per area and pair, with the area's polygon), streamed."""
    level = _audit_query()[0]
    body = audit.to_geojson(_audit_stream(with_geometry=True))
    return _download(body, GEOJSON, f"gb50180-audit-{level}.geojson", inline=False)


@bp.get("/coverage/audit")
def audit_page() -> str:
    """The GB 50180 audit page (审计): a table per community, export links, missing runs."""
    with session_factory()() as session:
        choices = cov.choices(session, lang=current_lang())
        pairs = [{"type": t, "circle": c} for t, c, _ in audit_repo.required_pairs(session)]
        missing = audit.missing_runs(session)
    config = {"apiBase": request.script_root + "/api", "root": request.script_root,
              "pairs": pairs, "missing": missing, **choices}
    return render_template("coverage/audit.html", page_config=config)
