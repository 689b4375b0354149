"""Parse the coverage pages' query strings and JSON bodies; every failure is an InvalidInput.

Only the shape of a request is checked here (codes, numbers, lists, limits); whether a rule,
area or facility exists is the services' business. The limits are the ones the pages receive
through :func:`limits`, so a page and the server never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridmap import codes
from gridmap.coverage.services import audit, scenarios
from gridmap.coverage.services.compute import NEAR_MISS_FACTOR
from gridmap.coverage.services.queries import CATCHMENT_MAX_BBOX_M
from gridmap.crs import validate_lonlat
from gridmap.errors import InvalidInput
from gridmap.web import params

SITE_K = (1, 30, 10)
"""New sites per siting request: lowest, highest, default."""
SITE_CANDIDATES = (10, 5000, 2000)
"""Street-node candidates per siting request: lowest, highest, default."""
MAX_ADD, MAX_REMOVE, MAX_CANDIDATES = 50, 200, 5000
"""What-if points added and facilities removed, and points of a candidate layer, at most."""

LonLat = tuple[float, float]
_CODE_CHARS = 40


def limits() -> dict[str, Any]:
    """The server's limits and factors, for the pages' config (never copied into scripts)."""
    return {"catchmentMaxM": CATCHMENT_MAX_BBOX_M, "nearMissFactor": NEAR_MISS_FACTOR,
            "siteK": {"min": SITE_K[0], "max": SITE_K[1], "default": SITE_K[2]},
            "whatIfMaxAdd": MAX_ADD, "whatIfMaxRemove": MAX_REMOVE,
            "candidatesMax": MAX_CANDIDATES, "minShare": audit.MIN_SHARE,
            "scenarioNameMax": scenarios.NAME_CHARS, "scenarioNoteMax": scenarios.NOTE_CHARS,
            "areaCodeMaxLength": codes.width(codes.Level.GRID)}


def rule(args: Mapping[str, Any]) -> tuple[str, str]:
    """``type`` and ``circle`` as given (the services check they exist)."""
    return (params.text(args, "type", max_chars=_CODE_CHARS).strip(),
            params.text(args, "circle", max_chars=_CODE_CHARS).strip())


def level(args: Mapping[str, Any], *, default: codes.Level = codes.Level.COMMUNITY) -> codes.Level:
    """``level``: grid, community, subdistrict or district."""
    return codes.parse_level(params.text(args, "level", max_chars=_CODE_CHARS) or default)


def parent(args: Mapping[str, str]) -> str | None:
    """``parent``: the code of a district, sub-district or community, or None."""
    raw = params.text(args, "parent", max_chars=_CODE_CHARS).strip()
    return codes.parse_area(raw, field="parent")[1] if raw else None


def area_arg(args: Mapping[str, str]) -> str | None:
    """``area`` of a query string: a district, sub-district or community code, or None (the
    reader's whole area)."""
    raw = params.text(args, "area", max_chars=_CODE_CHARS).strip()
    return codes.parse_area(raw)[1] if raw else None


def zoom(args: Mapping[str, str]) -> int | None:
    """``zoom`` 0-24 when the map asks (features then capped and simplified), else None."""
    value = params.integer(args, "zoom", default=-1, lo=0, hi=24)
    return value if value >= 0 else None


@dataclass(frozen=True)
class AuditQuery:
    """Which areas an audit covers and the share of residents that counts as covered."""

    level: codes.Level
    prefix: str
    min_share: float


def audit_query(args: Mapping[str, str]) -> AuditQuery:
    """``level`` (community or grid), ``area`` (a code, optional) and ``min_share`` (0, 1]."""
    lvl = codes.parse_level(params.text(args, "level", max_chars=_CODE_CHARS)
                            or codes.Level.COMMUNITY, allowed=audit.LEVELS)
    prefix = params.text(args, "area", max_chars=_CODE_CHARS).strip()
    if prefix:
        codes.parse_area(prefix, allowed=codes.LEVELS)
    share = params.number(args, "min_share") if args.get("min_share") else audit.MIN_SHARE
    return AuditQuery(lvl, prefix, audit.check_share(share))


def body(raw: Any) -> dict[str, Any]:
    """The JSON object of a POST; 400 if it is not one."""
    if not isinstance(raw, dict):
        raise InvalidInput("请求体须为 JSON 对象 (body must be a JSON object)")
    return raw


def integer(data: Mapping[str, Any], name: str, bounds: tuple[int, int, int]) -> int:
    """An integer member of a JSON body within ``bounds`` (lowest, highest, default)."""
    return params.integer(data, name, default=bounds[2], lo=bounds[0], hi=bounds[1])


def area(data: Mapping[str, Any]) -> str:
    """``area``: a district, sub-district or community code."""
    return codes.parse_area(params.text(data, "area", max_chars=_CODE_CHARS).strip())[1]


def lonlats(value: Any, *, limit: int = MAX_ADD, name: str = "add") -> list[LonLat]:
    """``add`` (or another list): at most ``limit`` [lon, lat] pairs in WGS84."""
    if not isinstance(value, list) or len(value) > limit:
        raise InvalidInput(f"{name} 须为最多 {limit} 个 [经度, 纬度] 的列表 "
                           f"({name} must be a list of at most {limit} [lon, lat] pairs)")
    out = []
    for pair in value:
        ok = (isinstance(pair, list) and len(pair) == 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair))
        if not ok:
            raise InvalidInput(f"坐标无效：{params.shown(repr(pair))} (each point must be [lon, lat])")
        validate_lonlat(float(pair[0]), float(pair[1]))
        out.append((float(pair[0]), float(pair[1])))
    return out


def candidate_layer(value: Any) -> list[LonLat] | None:
    """``candidates``: the planner's candidate layer, a GeoJSON FeatureCollection of points in
    WGS84 (e.g. vacant community rooms); absent = street nodes near the gaps."""
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
    return lonlats(points, limit=MAX_CANDIDATES, name="candidates")


def facilities(value: Any) -> list[int | str]:
    """``remove``: at most :data:`MAX_REMOVE` facility ids (integers) or codes (strings)."""
    if not isinstance(value, list) or len(value) > MAX_REMOVE:
        raise InvalidInput(f"remove 须为最多 {MAX_REMOVE} 个设施编号的列表 "
                           f"(remove must be a list of at most {MAX_REMOVE} facility ids)")
    ok = [v for v in value if (isinstance(v, str) and 0 < len(v) <= _CODE_CHARS
                               and params.clean_text(v, "remove"))
          or (isinstance(v, int) and not isinstance(v, bool) and 0 < v <= params.MAX_ID)]
    if len(ok) != len(value):
        raise InvalidInput("remove 的元素须为设施 id 或编码 (remove items must be ids or codes)")
    return ok


@dataclass(frozen=True)
class SitingRequest:
    """A siting request's parsed body."""

    facility_type: str
    circle: str
    area: str
    k: int
    max_candidates: int
    candidates: list[LonLat] | None
    background: bool
    """Run it as a job (202 with the job) rather than in the request."""


def siting_request(raw: Any) -> SitingRequest:
    """Parse ``POST /api/coverage/siting``."""
    data = body(raw)
    facility_type, circle = rule(data)
    return SitingRequest(facility_type, circle, k=integer(data, "k", SITE_K),
                         max_candidates=integer(data, "max_candidates", SITE_CANDIDATES),
                         area=area(data), candidates=candidate_layer(data.get("candidates")),
                         background=params.flag(data, "background"))


@dataclass(frozen=True)
class WhatIfRequest:
    """A what-if request's parsed body."""

    facility_type: str
    circle: str
    level: codes.Level
    add: list[LonLat]
    remove: list[int | str]


def what_if_request(raw: Any) -> WhatIfRequest:
    """Parse ``POST /api/coverage/what-if``."""
    data = body(raw)
    facility_type, circle = rule(data)
    return WhatIfRequest(facility_type, circle, level(data, default=codes.Level.DISTRICT),
                         add=lonlats(data.get("add", [])),
                         remove=facilities(data.get("remove", [])))


@dataclass(frozen=True)
class ScenarioRequest:
    """A what-if to save as a scenario: the what-if's body, a name and a note."""

    what_if: WhatIfRequest
    name: str
    note: str


def scenario_request(raw: Any) -> ScenarioRequest:
    """Parse ``POST /api/coverage/scenarios``: the name first (so a nameless request computes
    nothing), then the what-if."""
    data = body(raw)
    name = scenarios.check_name(params.text(data, "name", max_chars=scenarios.NAME_CHARS))
    note = params.text(data, "note", max_chars=scenarios.NOTE_CHARS, multiline=True).strip()
    return ScenarioRequest(what_if_request(data), name, note)


def scenario_ids(args: Mapping[str, Any]) -> list[int]:
    """``ids``: 2 or 3 distinct scenario ids, comma-separated."""
    low, high = scenarios.COMPARE
    raw = params.text(args, "ids", max_chars=_CODE_CHARS * 2)
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    ok = all(p.isascii() and p.isdigit() and len(p) <= 15 and 0 < int(p) <= params.MAX_ID
             for p in parts)
    if not ok or not low <= len(parts) <= high or len(set(parts)) != len(parts):
        raise InvalidInput(f"ids 须为 {low}–{high} 个不同的方案编号，以逗号分隔 "
                           f"(ids must be {low}-{high} distinct scenario ids, comma-separated)")
    return [int(p) for p in parts]


@dataclass(frozen=True)
class ComputeRequest:
    """A compute to start: every rule (``rule`` None; only the missing ones with
    ``if_missing``) or one ``(type, circle)``."""

    rule: tuple[str, str] | None
    if_missing: bool


def compute_request(raw: Any) -> ComputeRequest:
    """``{"all": true, "if_missing": false}`` or ``{"type": …, "circle": …}``."""
    data = body(raw)
    if params.flag(data, "all"):
        return ComputeRequest(None, params.flag(data, "if_missing"))
    facility_type, circle = rule(data)
    if not facility_type or not circle:
        raise InvalidInput("请指定 type 和 circle，或 all: true (give type and circle, or "
                           "all: true)")
    return ComputeRequest((facility_type, circle), False)
