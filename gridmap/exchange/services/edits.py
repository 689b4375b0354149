"""Editing facilities on the map (data officers and administrators): add, move, update,
retire — each checked like an import (a known type, a place inside the city and inside one's
territory, fields within their limits), written in one transaction with the record of the
change (who, when, before and after). Coverage runs that used the facilities of the type turn
stale by themselves (migration 0010).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import crs as datums
from gridmap.access import Principal
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.exchange.layers import FACILITIES
from gridmap.exchange.repositories import edits as repo
from gridmap.exchange.repositories import staging
from gridmap.exchange.services.imports import IMPORTERS, ensure_importer

LAYER = "facilities"
EDITORS = IMPORTERS
"""Roles that edit on the map (those that import)."""
CHANGES_LIMIT = 100


@dataclass(frozen=True)
class FacilityFields:
    """What an edit may set (None: keep as it is)."""

    type: str | None = None
    name: str | None = None
    capacity: int | None = None
    hours: str | None = None


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
