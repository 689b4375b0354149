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
import shapely.ops
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gridmap import crs as datums
from gridmap.access import Principal
from gridmap.db import unit_of_work
from gridmap.errors import Conflict, DataRejected, Forbidden, InvalidInput, NotFound
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
            before: dict[str, Any] | None, after: dict[str, Any] | None, *,
            layer: str = LAYER) -> int:
    return repo.record(session, layer=layer, code=code, op=op, before=before, after=after,
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
        try:
            repo.delete(session, code)
        except IntegrityError:  # a mediation point's disputes keep their point (migration 0022)
            raise Conflict("该设施仍有关联记录（如评理说事点受理的纠纷），不能撤除 (the facility "
                           "is still referenced, e.g. by a mediation point's disputes, and "
                           "cannot be retired)") from None
        _record(session, principal, code, "retire", _plain(before), None)
    return _plain(before)


def history(factory: sessionmaker[Session], principal: Principal, *,
            code: str | None = None, layer: str = LAYER) -> list[dict[str, Any]]:
    """The newest changes of facilities (or grids) in one's territory (of one, with ``code``);
    a grid's boundaries are left out (``grid_versions`` has them)."""
    ensure_importer(principal)
    with factory() as session:
        rows = repo.changes(session, layer=layer, area=principal.area_code, code=code,
                            limit=CHANGES_LIMIT)
    return [{**r, "before": _unshaped(r["before"]), "after": _unshaped(r["after"]),
             "changed_at": r["changed_at"].isoformat()
             if isinstance(r["changed_at"], datetime) else r["changed_at"]} for r in rows]


def _unshaped(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    out = {k: v for k, v in state.items() if k != "geometry"}
    if "parts" in out:
        out["parts"] = [_unshaped(p) for p in out["parts"]]
    return out


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
        before = _locked_grids(session, principal, list(shapes))
        codes = sorted(shapes)
        wkbs = [shapely.to_wkb(shapes[c]) for c in codes]
        problems = repo.reshape_problems(session, codes, wkbs, GRID_TOLERANCE_M2)
        if problems:
            raise _rejected(problems)
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
        _commit_checks(session)
    return {"grids": codes, "moved_buildings": moved}


def _grid_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "community_code": row["community_code"],
            "geometry": json.loads(row["geometry"]), "valid_from": row["valid_from"].isoformat()}


def _shape_json(shape: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(shapely.to_geojson(shape))
    return parsed


def _rejected(problems: list[dict[str, Any]]) -> DataRejected:
    """The first problem in words, every problem's place on the map."""
    first = problems[0]
    places = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": _shape_json(shapely.from_wkb(p["place"])),
         "properties": {"problem": p["problem"], "code": p["code"], "other": p["other"],
                        "area_m2": round(float(p["area_m2"]), 1)}}
        for p in problems if p["place"] is not None]}
    if first["problem"] == "grid_gap":
        return DataRejected(f"调整后社区内将有 {first['area_m2']:.0f} m² 不属于任何网格（在网格 "
                            f"{first['code']} 附近），未保存 (the change would leave "
                            f"{first['area_m2']:.0f} m² near grid {first['code']} in no grid; "
                            "nothing saved)", places=places)
    outside = first["problem"] == "grid_outside_community"
    what_zh = "离开所属社区" if outside else f"与网格 {first['other']} 重叠"
    what_en = "leave its community" if outside else f"overlap grid {first['other']}"
    return DataRejected(f"网格 {first['code']} {what_zh} {first['area_m2']:.0f} m²，未保存 (grid "
                        f"{first['code']} would {what_en} by {first['area_m2']:.0f} m²; nothing "
                        "saved)", places=places)


def _commit_checks(session: Session) -> None:
    try:
        repo.check_deferred(session)
    except IntegrityError as exc:  # the grid rules, as the commit would run them
        detail = str(exc.orig).splitlines()[0][:200] if exc.orig else "grid rules"
        raise DataRejected(f"数据库规则拒绝：{detail}，未保存 (the database refused it: "
                           f"{detail}; nothing saved)") from None


def _locked_grids(session: Session, principal: Principal, codes: list[str]
                  ) -> dict[str, dict[str, Any]]:
    """The grids (locked, in code order), each inside one's territory, else NotFound."""
    rows = {}
    for code in sorted(codes):
        row = repo.grid(session, code, lock=True)
        if row is None or (principal.area_code and not code.startswith(principal.area_code)):
            raise NotFound(f"您的辖区内没有网格 {code[:20]} (no grid {code[:20]} in your area)")
        rows[code] = row
    return rows


MIN_PART_M2 = 100.0
"""A split leaving a part smaller than this is a slip of the pen, not a new grid."""


def split_grid(factory: sessionmaker[Session], principal: Principal, code: str,
               line: dict[str, Any], *, names: tuple[str, ...] = (),
               crs: str = "wgs84") -> dict[str, Any]:
    """Split a grid along a drawn line (GeoJSON, drawn across it from edge to edge).

    The largest part keeps the grid's code, its worker and its cases (a case keeps the grid it
    was filed in). Each other part is a new grid with the community's next free code, named
    from ``names`` (else after the grid), with the same departments enrolled and no worker yet.
    The community's buildings go to the grid they lie in; the old boundary stays in the history.
    """
    ensure_importer(principal)
    cut = _line(line, crs)
    with unit_of_work(factory) as session:
        first = repo.grid(session, code)
        if first is None or (principal.area_code and not code.startswith(principal.area_code)):
            raise NotFound(f"您的辖区内没有网格 {code[:20]} (no grid {code[:20]} in your area)")
        community = str(first["community_code"])
        repo.lock_community(session, community)
        row = _locked_grids(session, principal, [code])[code]
        parts = _split(shapely.from_wkb(row["wkb"]), cut)
        areas = repo.areas_m2(session, [shapely.to_wkb(p) for p in parts])
        order = sorted(range(len(parts)), key=lambda i: -areas[i])
        parts = [parts[i] for i in order]
        if areas[order[-1]] < MIN_PART_M2:
            raise InvalidInput(f"分割后有一部分只有 {areas[order[-1]]:.0f} m²（至少 "
                               f"{MIN_PART_M2:.0f} m²），请重画分割线 (a part would be only "
                               f"{areas[order[-1]]:.0f} m²: draw the line again)")
        new_codes = repo.next_grid_codes(session, community, len(parts) - 1)
        if len(new_codes) < len(parts) - 1:
            raise Conflict(f"社区 {community} 的网格编码已用尽 (the community has no free grid "
                           "codes left)")
        new_names = [names[i] if i < len(names) and names[i] else f"{row['name']}-{i + 2}"
                     for i in range(len(new_codes))]
        all_codes = [code, *new_codes]
        wkbs = [shapely.to_wkb(p) for p in parts]
        problems = repo.reshape_problems(session, all_codes, wkbs, GRID_TOLERANCE_M2)
        if problems:
            raise _rejected(problems)
        described = [{"code": c, "name": n, "geometry": _shape_json(p)} for c, n, p in
                     zip(all_codes, [row["name"], *new_names], parts, strict=True)]
        change_id = _record(session, principal, code, "split", _grid_json(row),
                            {"parts": described}, layer="grids")
        repo.reshape(session, code, wkbs[0], change_id, reason="split")
        enrolled = 0
        for new, name, wkb, part in zip(new_codes, new_names, wkbs[1:], parts[1:], strict=True):
            repo.add_grid(session, code=new, name=name, community=community, wkb=wkb,
                          synthetic=bool(row["synthetic"]))
            _record(session, principal, new, "add", None, {
                "name": name, "community_code": community, "geometry": _shape_json(part),
                "split_from": code}, layer="grids")
            enrolled += repo.copy_enrollments(session, code, new)
        moved = repo.rehouse_buildings(session, [community])
        _commit_checks(session)
    return {"grid": code, "new_grids": [{"code": c, "name": n}
                                        for c, n in zip(new_codes, new_names, strict=True)],
            "moved_buildings": moved, "enrollments_copied": enrolled}


def _line(geometry: dict[str, Any], crs: str) -> Any:
    try:
        shape = shapely.geometry.shape(geometry)
    except (TypeError, ValueError, KeyError, AttributeError):
        shape = None
    if shape is None or shape.geom_type not in ("LineString", "MultiLineString") or shape.is_empty:
        raise InvalidInput("分割线须为 GeoJSON 线 (the cut must be a GeoJSON line)")
    return shapely.force_2d(_to_wgs84(shape, crs))


def _split(polygon: Any, cut: Any) -> list[Any]:
    """The polygons a line cuts a polygon into (at least two, else InvalidInput)."""
    parts = [p for p in shapely.ops.split(polygon, cut).geoms if p.geom_type == "Polygon"]
    if len(parts) < 2:
        raise InvalidInput("分割线须从网格的一边画到另一边，完全穿过网格 (draw the line across "
                           "the grid, from one edge to another)")
    return parts


SLIVER_DEG = 1e-6
"""Neighbours' edges this close (about 0.1 m) count as shared when grids are merged."""


def merge_grids(factory: sessionmaker[Session], principal: Principal, codes: tuple[str, ...],
                *, keep: str, name: str | None = None) -> dict[str, Any]:
    """Merge neighbouring grids of one community into ``keep``, which takes their union.

    The others are merged away: their buildings, enrolled departments and Party-member
    households go to ``keep``; their worker too when ``keep`` has none, else their open cases
    go to ``keep``'s worker (each with a ``reassign`` event) and the worker is released (the
    answer names them). Their cases keep the grid they were filed in, and are worked from
    ``keep`` (``grid_lineage``); their last boundary stays in the history, naming ``keep``.
    """
    ensure_importer(principal)
    communities = {c[:12] for c in codes}
    if len(communities) != 1:
        raise InvalidInput("只能合并同一社区的网格 (only grids of one community can be merged)")
    gone = sorted(c for c in codes if c != keep)
    with unit_of_work(factory) as session:
        community = communities.pop()
        repo.lock_community(session, community)
        rows = _locked_grids(session, principal, list(codes))
        union = _union([shapely.from_wkb(rows[c]["wkb"]) for c in sorted(codes)])
        if union is None:
            raise DataRejected("所选网格不相邻，合并后不是一个连续的面，未保存 (the grids do not "
                               "touch: their union is not one polygon; nothing saved)")
        wkb = shapely.to_wkb(union)
        problems = repo.reshape_problems(session, [keep], [wkb], GRID_TOLERANCE_M2, gone=gone)
        if problems:
            raise _rejected(problems)
        kept = rows[keep]
        new_name = name or str(kept["name"])
        change_id = _record(session, principal, keep, "merge",
                            {**_grid_json(kept), "merged": gone},
                            {"name": new_name, "community_code": community,
                             "geometry": _shape_json(union)}, layer="grids")
        worker = next((m for m in repo.members(session, keep) if m["role"] == "grid_worker"), None)
        released: list[dict[str, Any]] = []
        handed: list[int] = []
        moved = 0
        for other in gone:
            moved += repo.move_buildings(session, other, keep)
            repo.copy_enrollments(session, other, keep)
            for member in repo.members(session, other):
                if member["role"] != "grid_worker" or worker is None:
                    repo.move_member(session, member["person_id"], other, keep)
                    if member["role"] == "grid_worker":
                        worker = member
                    continue
                handed += _hand_over(session, principal, other, member, worker, keep)
                repo.release_member(session, int(member["person_id"]), other)
                released.append({"person_id": member["person_id"], "name": member["name"],
                                 "grid": other})
            other_id = _record(session, principal, other, "merge", _grid_json(rows[other]),
                               {"merged_into": keep}, layer="grids")
            repo.remove_grid(session, other)
            repo.mark_history(session, other, reason="merge", change_id=other_id,
                              successor=keep)
        repo.reshape(session, keep, wkb, change_id, reason="merge")
        if new_name != kept["name"]:
            repo.rename_grid(session, keep, new_name)
        moved += repo.rehouse_buildings(session, [community])
        _commit_checks(session)
    return {"grid": keep, "name": new_name, "merged": gone, "moved_buildings": moved,
            "released_workers": released, "handed_over_cases": handed}


def _hand_over(session: Session, principal: Principal, other: str, member: dict[str, Any],
               worker: dict[str, Any], keep: str) -> list[int]:
    if principal.person_id is None:
        raise InvalidInput("合并需要以有人员信息的账号操作，以便记录案件移交人 (merging needs an "
                           "account with a person, to record who handed the cases over)")
    return repo.hand_over_cases(
        session, source=other, worker_from=int(member["person_id"]),
        worker_to=int(worker["person_id"]), actor_id=principal.person_id,
        note=f"网格 {other} 并入网格 {keep}，案件由 {worker['name']} 接办 (grid {other} merged "
             f"into {keep}; its grid worker takes the case over)",
        payload={"reason": "grid_merged", "grid": other, "into": keep,
                 "from_person_id": int(member["person_id"])})


def _union(polygons: list[Any]) -> Any | None:
    """The polygons' union as one polygon (edges closer than :data:`SLIVER_DEG` joined, pin
    holes left by such edges filled), or None when they do not touch."""
    union = shapely.union_all(polygons)
    if union.geom_type != "Polygon":
        union = union.buffer(SLIVER_DEG, join_style="mitre").buffer(-SLIVER_DEG,
                                                                    join_style="mitre")
    if union.geom_type != "Polygon":
        return None
    holes = [ring for ring in union.interiors
             if shapely.Polygon(ring).area > SLIVER_DEG * SLIVER_DEG * 100]
    return shapely.Polygon(union.exterior, holes)


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
                         "valid_to": h["valid_to"].isoformat(), "reason": h["reason"],
                         "successor": h["successor"],
                         "geometry": json.loads(h["geometry"])} for h in history]}
