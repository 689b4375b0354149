"""The Party organisation as map layers (网格党支部 · 楼栋党小组 · 党员中心户).

Every view of households by name is written to the audit log, as the care register's are.

Branches and groups are organisations and public; the people in them are not. Central
households are personal data: their names and buildings only for staff whose scope holds the
grid (:func:`gridmap.volunteers.rules.sees_grid`), counts per grid for everyone else, with
small counts suppressed. A group's leader and household count follow the same rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.accounts.services import audit
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, Unauthorized
from gridmap.volunteers import rules
from gridmap.volunteers.repositories import party as repo


def _feature(fid: Any, geometry: str | None, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid,
            "geometry": json.loads(geometry) if geometry else None, "properties": properties}


def _count(principal: Principal, grid: str, count: int) -> int | None:
    return count if rules.sees_grid(principal, grid) else rules.suppressed(count)


def grid_counts(factory: sessionmaker[Session], principal: Principal, args: Mapping[str, str],
                *, with_geom: bool) -> list[dict[str, Any]]:
    """Per grid of the area: branch, groups, households (exact only where the principal sees
    the grid's people; counts of 1-4 null elsewhere), optionally with the grid's outline."""
    return _suppressed(principal, _raw_counts(factory, args, with_geom=with_geom))


def _raw_counts(factory: sessionmaker[Session], args: Mapping[str, str], *,
                with_geom: bool) -> list[dict[str, Any]]:
    prefix = codes.area_filter(args).prefix() or ""
    with factory() as session:
        return repo.counts(session, prefix, with_geom=with_geom)


def _suppressed(principal: Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        shown = _count(principal, row["code"], int(row["households"]))
        out.append({**row, "groups": int(row["groups"]), "households": shown,
                    "suppressed": shown is None})
    return out


def community_counts(principal: Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Totals per community of raw per-grid rows: branches, groups and households (the last
    suppressed as a grid's is, unless the principal sees the community's people)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        t = totals.setdefault(row["community_code"], {
            "code": row["community_code"], "branches": set(), "groups": 0, "households": 0})
        if row["branch_id"] is not None:
            t["branches"].add(row["branch_id"])
        t["groups"] += int(row["groups"])
        t["households"] += int(row["households"])
    out = []
    for code, t in sorted(totals.items()):
        inside = rules.sees_community(principal, code)
        shown = t["households"] if inside else rules.suppressed(t["households"])
        out.append({"code": code, "branches": len(t["branches"]), "groups": t["groups"],
                    "households": shown, "suppressed": shown is None})
    return out


def counts(factory: sessionmaker[Session], principal: Principal,
           args: Mapping[str, str]) -> dict[str, Any]:
    """Per grid and per community of the area: branches, groups, households (counts only)."""
    rows = _raw_counts(factory, args, with_geom=False)
    return {"small_count": rules.SMALL_COUNT, "grids": _suppressed(principal, rows),
            "communities": community_counts(principal, rows)}


def counts_geojson(factory: sessionmaker[Session], principal: Principal,
                   args: Mapping[str, str]) -> dict[str, Any]:
    """:func:`grid_counts` as grid polygons (the public's and planners' household layer)."""
    raw = _raw_counts(factory, args, with_geom=True)
    rows = _suppressed(principal, raw)
    return {"type": "FeatureCollection", "small_count": rules.SMALL_COUNT,
            "communities": community_counts(principal, raw), "features": [
                _feature(r["code"], r.pop("geometry"), r) for r in rows]}


def branches_geojson(factory: sessionmaker[Session], principal: Principal,
                     args: Mapping[str, str]) -> dict[str, Any]:
    """Grid Party branches as the union of the grids each serves (households counted)."""
    prefix = codes.area_filter(args).prefix() or ""
    with factory() as session:
        rows = repo.branches(session, prefix)
    features = []
    for r in rows:
        inside = all(rules.sees_grid(principal, g) for g in r["grids"])
        households = int(r["households"])
        features.append(_feature(r["id"], r["geometry"], {
            "id": r["id"], "name": r["name"], "community_code": r["community_code"],
            "grids": list(r["grids"]), "groups": int(r["groups"]),
            "households": households if inside else rules.suppressed(households)}))
    return {"type": "FeatureCollection", "small_count": rules.SMALL_COUNT,
            "features": features}


def groups_geojson(factory: sessionmaker[Session], principal: Principal,
                   args: Mapping[str, str]) -> dict[str, Any]:
    """Building Party groups as points on their buildings; leader and households only for
    staff whose scope holds the grid."""
    prefix = codes.area_filter(args).prefix() or ""
    with factory() as session:
        rows = repo.groups(session, prefix)
    features = []
    for r in rows:
        inside = rules.sees_grid(principal, r["grid_code"])
        features.append({"type": "Feature", "id": r["id"], "geometry": {
            "type": "Point", "coordinates": [round(r["lon"], 6), round(r["lat"], 6)]},
            "properties": {
                "id": r["id"], "name": r["name"], "branch": r["branch"],
                "building_code": r["building_code"], "building_name": r["building_name"],
                "grid_code": r["grid_code"], "leader": r["leader"] if inside else None,
                "households": int(r["households"]) if inside else None}})
    return {"type": "FeatureCollection", "features": features}


def households_geojson(factory: sessionmaker[Session], principal: Principal,
                       args: Mapping[str, str]) -> dict[str, Any]:
    """Central households as points at their buildings with names: only those of grids in the
    principal's scope (a grid worker: their grids).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For roles that see only counts (use the counts layer).
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not rules.is_staff(principal):
        raise Forbidden("您的岗位只能查看各网格的党员中心户数量 (your role sees only the number "
                        "of Party-member central households per grid)")
    prefix = codes.area_filter(args).prefix() or principal.area_code or ""
    grids = principal.grids if principal.role == "grid_worker" else None
    with unit_of_work(factory) as session:
        rows = [r for r in repo.households(session, prefix, grids)
                if rules.sees_grid(principal, r["grid_code"])]
        audit.record(session, principal, audit.Event.PARTY_HOUSEHOLDS_VIEWED,
                     target_kind="area", target_id=prefix,
                     detail={"households": [r["id"] for r in rows]})
    features = [{"type": "Feature", "id": r["id"], "geometry": {
        "type": "Point", "coordinates": [round(r["lon"], 6), round(r["lat"], 6)]},
        "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")}} for r in rows]
    return {"type": "FeatureCollection", "features": features}


def opening_district(factory: sessionmaker[Session], principal: Principal) -> str:
    """The district the Party map opens on: the reader's own, else the one with most branches
    (a city loads its districts one by one: the first in the list may hold none yet)."""
    if principal.area_code:
        return principal.area_code[:6]
    if principal.grids:
        return sorted(principal.grids)[0][:6]
    with factory() as session:
        return repo.busiest_district(session) or ""
