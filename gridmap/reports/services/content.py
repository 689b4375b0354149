"""Gather a coverage report from the coverage services: what the map and the PDF show.

Everything is read through the coverage services as the principal who asked, so a report
never holds more than its maker may read on the coverage page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.coverage.services import audit, queries, readers
from gridmap.coverage.services import siting as siting_service
from gridmap.errors import InvalidInput
from gridmap.reports.document import CoverageReport, Totals

WORST_COMMUNITIES = 10
SITES = 5
_TOTALS = ("buildings", "buildings_covered", "residents", "residents_covered", "elderly",
           "elderly_covered")


def area_of(principal: Principal, asked: str | None) -> str:
    """The area a report covers: ``asked`` within the principal's scope, else their scope; a
    city-wide reader must name a district, sub-district or community."""
    if asked:
        codes.parse_area(asked, allowed=(codes.Level.DISTRICT, codes.Level.SUBDISTRICT,
                                         codes.Level.COMMUNITY))
    area = readers.area(principal, asked)
    if area is None:
        raise InvalidInput("请选择区、街道或社区 (choose a district, sub-district or community)")
    return area


def gather(factory: sessionmaker[Session], principal: Principal, *, facility_type: str,
           circle: str, area: str, sites: int = SITES, maker: str) -> CoverageReport:
    """The report of one rule over ``area`` (checked with :func:`area_of` first), read as
    ``principal``; ``sites`` new sites are suggested by the siting service (0: none)."""
    level = codes.level_of(area)
    assert level is not None  # area_of parsed it
    with factory() as session:
        run = queries.resolve_run(session, facility_type, circle)
        names = queries.choices(session, principal, lang="zh")
        own = queries.areas(session, principal, run, level, parent=area)
        if not own:
            raise InvalidInput(f"区域 {area} 没有覆盖结果 (no coverage results for this area)")
        worst = queries.areas(session, principal, run, codes.Level.COMMUNITY, parent=area)
        rules = [r for r in audit.rows(session, principal, prefix=area)
                 if r["facility_type"] == facility_type and r["circle"] == circle]
        facilities = queries.facilities(session, principal, run, area=area)
        chosen = _sites(session, principal, facility_type, circle, area, sites)
        computed_at = _computed_at(session, principal, facility_type, circle)
    status = {r["code"]: r["status"] for r in rules}
    return CoverageReport(
        area_code=area, area_name=str(own[0]["name"]), facility_type=facility_type,
        facility_type_name=_name(names["types"], facility_type), circle=circle,
        circle_name=_name(names["circles"], circle), max_distance_m=run.max_distance_m,
        computed_at=computed_at, generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        generated_by=maker, totals=Totals(**{k: int(own[0][k] or 0) for k in _TOTALS}),
        communities=_communities(factory, principal, run, area, status),
        buildings=_features(queries.buildings_geojson(factory, principal, run, area=area,
                                                      bbox=None, zoom=None, cap=None)),
        facilities=facilities, worst=worst[:WORST_COMMUNITIES], audit=rules, sites=chosen)


def _name(choices: list[dict[str, Any]], code: str) -> str:
    return next((str(c["name"]) for c in choices if c["code"] == code), code)


def _computed_at(session: Session, principal: Principal, facility_type: str, circle: str) -> str:
    for row in queries.runs(session, principal, lang="zh"):
        if row["facility_type"] == facility_type and row["circle"] == circle:
            return str(row["computed_at"])[:16].replace("T", " ")
    return "—"


def _features(chunks: Any) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads("".join(chunks))["features"]
    return features


def _communities(factory: sessionmaker[Session], principal: Principal, run: queries.Run,
                 area: str, status: dict[str, str]) -> list[dict[str, Any]]:
    features = _features(queries.areas_geojson(factory, principal, run, codes.Level.COMMUNITY,
                                               parent=area, bbox=None, zoom=None))
    for f in features:
        point = shapely.from_geojson(json.dumps(f["geometry"])).representative_point()
        props = f["properties"]
        props.update(label_lon=point.x, label_lat=point.y,
                     status=status.get(str(props.get("code")), "not_audited"))
    return features


def _sites(session: Session, principal: Principal, facility_type: str, circle: str, area: str,
           k: int) -> list[dict[str, Any]]:
    if k <= 0:
        return []
    report = siting_service.site(session, principal, facility_type, circle, area_code=area, k=k)
    return [{"rank": i, "lon": s.lon, "lat": s.lat, "elderly_gain": s.elderly_gain,
             "community": s.community, "street": s.street}
            for i, s in enumerate(report.sites, start=1)]
