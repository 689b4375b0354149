"""Editing facilities on the map (data officers and administrators): add, move, update,
retire — each checked like an import (a known type, a place inside the city and inside one's
territory, fields within their limits), written in one transaction with the record of the
change (who, when, before and after). Coverage runs that used the facilities of the type turn
stale by themselves (migration 0010).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gridmap import crs as datums
from gridmap.access import Principal
from gridmap.db import unit_of_work
from gridmap.errors import DataRejected, Forbidden, InvalidInput, NotFound
from gridmap.exchange.layers import FACILITIES
from gridmap.exchange.repositories import edits as repo
from gridmap.exchange.repositories import staging
from gridmap.exchange.rules import EXCHANGERS, FacilityFields
from gridmap.exchange.rules import ensure_exchanger as ensure_importer

LAYER = "facilities"
EDITORS = EXCHANGERS
"""Roles that edit on the map (those that import)."""
CHANGES_LIMIT = 100


def _place(session: Session, principal: Principal, lon: float, lat: float,
           crs: str) -> tuple[float, float, str | None]:
    """A position in WGS84 with its community, checked: inside the city and one's territory."""
    x, y = datums.to_wgs84(lon, lat, crs)
    x, y = float(x), float(y)
    datums.validate_lonlat(x, y)
    extent = staging.city_extent(session)
    if extent is not None and not (extent[0] <= x <= extent[2] and extent[1] <= y <= extent[3]):
        raise InvalidInput(f"位置在本市范围之外（{x:.5f}, {y:.5f}） (the place lies outside the city)")
    community = repo.community_at(session, x, y)
    if principal.area_code and not (community or "").startswith(principal.area_code):
        raise Forbidden(f"该位置不在您的辖区 {principal.area_code} 内 (the place lies outside your "
                        f"area {principal.area_code})")
    return x, y, community


def _fields(session: Session, fields: FacilityFields, current: dict[str, Any]) -> dict[str, Any]:
    kind = fields.type if fields.type is not None else current.get("type")
    if kind not in staging.facility_types(session):
        known = ", ".join(sorted(staging.facility_types(session)))
        raise InvalidInput(f"未知设施类型 {str(kind)[:40]!r}，可用：{known} (unknown facility type)")
    name = fields.name if fields.name is not None else current.get("name")
    if not name or not str(name).strip():
        raise InvalidInput("请填写设施名称 (give the facility a name)")
    limit = FACILITIES.field("capacity").maximum or 0
    capacity = fields.capacity if fields.capacity is not None else current.get("capacity")
    if capacity is not None and not 0 <= capacity <= limit:
        raise InvalidInput(f"容量须在 0–{limit} 之间 (capacity must be 0..{limit})")
    hours = fields.hours if fields.hours is not None else current.get("hours") or ""
    return {"type": kind, "name": str(name).strip(), "capacity": capacity, "hours": hours}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 7) if k in ("lon", "lat") else v) for k, v in row.items()}


def _mine(principal: Principal, row: dict[str, Any]) -> None:
    if principal.area_code and not (row.get("community_code") or "").startswith(
            principal.area_code):
        raise NotFound(f"您的辖区内没有设施 {row['code']} (no facility {row['code']} in your area)")


def _record(session: Session, principal: Principal, code: str, op: str,
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    repo.record(session, layer=LAYER, code=code, op=op, before=before, after=after,
                changed_by=principal.username or "cli", account_id=principal.account_id)


def add(factory: sessionmaker[Session], principal: Principal, fields: FacilityFields, *,
        lon: float, lat: float, crs: str = "wgs84") -> dict[str, Any]:
    """Add a facility where it is; its code is made from its community."""
    ensure_importer(principal)
    with unit_of_work(factory) as session:
        x, y, community = _place(session, principal, lon, lat, crs)
        if community is None:
            raise InvalidInput("该位置不在任何社区内 (the place lies in no community)")
        values = {**_fields(session, fields, {}), "code": repo.next_code(session, community),
                  "community_code": community, "lon": x, "lat": y}
        repo.insert(session, values)
        after = repo.facility(session, values["code"])
        assert after is not None
        _record(session, principal, values["code"], "add", None, _plain(after))
    return _plain(after)


def change(factory: sessionmaker[Session], principal: Principal, code: str, *,
           fields: FacilityFields | None = None, lon: float | None = None,
           lat: float | None = None, crs: str = "wgs84") -> dict[str, Any]:
    """Move a facility (``lon``/``lat``) and/or update its fields."""
    ensure_importer(principal)
    with unit_of_work(factory) as session:
        before = repo.facility(session, code, lock=True)
        if before is None:
            raise NotFound(f"没有设施 {code[:40]} (no such facility)")
        _mine(principal, before)
        values = dict(before)
        op = "update"
        if lon is not None and lat is not None:
            values["lon"], values["lat"], values["community_code"] = _place(
                session, principal, lon, lat, crs)
            op = "move"
        values.update(_fields(session, fields or FacilityFields(), before))
        repo.update(session, values)
        after = repo.facility(session, code)
        assert after is not None
        _record(session, principal, code, op, _plain(before), _plain(after))
    return _plain(after)


def retire(factory: sessionmaker[Session], principal: Principal, code: str) -> dict[str, Any]:
    """Take a facility off the map (its record keeps what it was)."""
    ensure_importer(principal)
    with unit_of_work(factory) as session:
        before = repo.facility(session, code, lock=True)
        if before is None:
            raise NotFound(f"没有设施 {code[:40]} (no such facility)")
        _mine(principal, before)
        repo.delete(session, code)
        _record(session, principal, code, "retire", _plain(before), None)
    return _plain(before)


def history(factory: sessionmaker[Session], principal: Principal, *,
            code: str | None = None) -> list[dict[str, Any]]:
    """The newest changes of facilities in one's territory (of one facility, with ``code``)."""
    ensure_importer(principal)
    with factory() as session:
        rows = repo.changes(session, layer=LAYER, area=principal.area_code, code=code,
                            limit=CHANGES_LIMIT)
    return [{**r, "changed_at": r["changed_at"].isoformat()
             if isinstance(r["changed_at"], datetime) else r["changed_at"]} for r in rows]


GRID_TOLERANCE_M2 = 1.0
"""Grids may overlap a neighbour by this much: the database's own rule (migration 0001), so a
reshape it would refuse is refused here first, with the place."""


def reshape_grids(factory: sessionmaker[Session], principal: Principal,
                  boundaries: dict[str, Any], *, crs: str = "wgs84") -> dict[str, Any]:
    """Give grids new boundaries (``{code: GeoJSON polygon}``) in one transaction: each checked
    (a valid polygon, inside its community, no overlap with a neighbour as they will all be),
    the old boundary kept in the grid's history, the buildings of the communities re-housed by
    where they lie, and each change recorded. A refused reshape writes nothing."""
    ensure_importer(principal)
    if not boundaries or len(boundaries) > 50:
        raise InvalidInput("请提交 1–50 个网格的新边界 (send the new boundaries of 1-50 grids)")
    shapes: dict[str, Any] = {}
    for code, geometry in boundaries.items():
        try:
            shape = shapely.geometry.shape(geometry)
        except (TypeError, ValueError, KeyError, AttributeError):
            raise InvalidInput(f"网格 {code[:20]} 的边界不是 GeoJSON 面 (the boundary of grid "
                               f"{code[:20]} is not a GeoJSON polygon)") from None
        if shape.geom_type == "MultiPolygon" and len(shape.geoms) == 1:
            shape = shape.geoms[0]
        if shape.geom_type != "Polygon" or shape.is_empty:
            raise InvalidInput(f"网格 {code[:20]} 的边界须为一个面 (a grid's boundary is one "
                               "polygon)")
        shape = shapely.force_2d(_to_wgs84(shape, crs))
        if not shape.is_valid:
            raise InvalidInput(f"网格 {code[:20]} 的边界无效：{shapely.is_valid_reason(shape)} "
                               f"(the boundary of grid {code[:20]} is invalid)")
        shapes[code] = shape
    with unit_of_work(factory) as session:
        before = {}
        for code in sorted(shapes):
            row = repo.grid(session, code, lock=True)
            if row is None or (principal.area_code and not code.startswith(principal.area_code)):
                raise NotFound(f"您的辖区内没有网格 {code[:20]} (no grid {code[:20]} in your area)")
            before[code] = row
        codes = sorted(shapes)
        wkbs = [shapely.to_wkb(shapes[c]) for c in codes]
        problems = repo.reshape_problems(session, codes, wkbs, GRID_TOLERANCE_M2)
        if problems:
            first = problems[0]
            outside = first["problem"] == "grid_outside_community"
            what_zh = "离开所属社区" if outside else f"与网格 {first['other']} 重叠"
            what_en = "leave its community" if outside else f"overlap grid {first['other']}"
            raise DataRejected(
                f"网格 {first['code']} {what_zh} {first['area_m2']:.0f} m²，未保存 (grid "
                f"{first['code']} would {what_en} by {first['area_m2']:.0f} m²; nothing saved)")
        for code, wkb in zip(codes, wkbs, strict=True):
            old = before[code]
            change_id = repo.record(session, layer="grids", code=code, op="reshape",
                                    before=_grid_json(old), after={
                                        **_grid_json(old),
                                        "geometry": json.loads(shapely.to_geojson(shapes[code]))},
                                    changed_by=principal.username or "cli",
                                    account_id=principal.account_id)
            repo.reshape(session, code, wkb, change_id)
        moved = repo.rehouse_buildings(session, sorted({c[:12] for c in codes}))
        try:
            repo.check_deferred(session)
        except IntegrityError as exc:  # the grid rules, as the commit would run them
            detail = str(exc.orig).splitlines()[0][:200] if exc.orig else "grid rules"
            raise DataRejected(f"数据库规则拒绝：{detail}，未保存 (the database refused it: "
                               f"{detail}; nothing saved)") from None
    return {"grids": codes, "moved_buildings": moved}


def _grid_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "community_code": row["community_code"],
            "geometry": json.loads(row["geometry"]), "valid_from": row["valid_from"].isoformat()}


def _to_wgs84(shape: Any, crs: str) -> Any:
    def move(xy: Any) -> Any:
        x, y = datums.to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])

    return shapely.transform(shape, move)


def grid_versions(factory: sessionmaker[Session], principal: Principal,
                  code: str) -> dict[str, Any]:
    """A grid now and its earlier boundaries."""
    ensure_importer(principal)
    with factory() as session:
        now = repo.grid(session, code)
        if now is None or (principal.area_code and not code.startswith(principal.area_code)):
            raise NotFound(f"您的辖区内没有网格 {code[:20]} (no grid {code[:20]} in your area)")
        history = repo.grid_history(session, code)
    return {"code": code, "name": now["name"], "geometry": json.loads(now["geometry"]),
            "valid_from": now["valid_from"].isoformat(),
            "history": [{"valid_from": h["valid_from"].isoformat(),
                         "valid_to": h["valid_to"].isoformat(),
                         "geometry": json.loads(h["geometry"])} for h in history]}
