"""SQL of editing facilities on the map: a facility by code (locked for the change), the
community a point lies in, the writes, and the record of each change."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.sqlfiles import sql

_FACILITY = """SELECT code, type, name, capacity, hours, community_code,
                      ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facility"""


def facility(session: Session, code: str, *, lock: bool = False) -> dict[str, Any] | None:
    """One facility's fields and WGS84 position (locked until the transaction ends)."""
    row = session.execute(text(_FACILITY + " WHERE code = :c" + (" FOR UPDATE" if lock else "")),
                          {"c": code}).mappings().one_or_none()
    return dict(row) if row else None


def community_at(session: Session, lon: float, lat: float) -> str | None:
    """The community a WGS84 point lies in, or None."""
    found = session.execute(text(
        "SELECT code FROM community WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
        "4326)) ORDER BY code LIMIT 1"), {"x": lon, "y": lat}).scalar_one_or_none()
    return str(found) if found is not None else None


def next_code(session: Session, community: str) -> str:
    """A new facility code in a community: ``F<community>-<n>``, the next free ``n``."""
    taken = set(session.execute(text("SELECT code FROM facility WHERE code LIKE :p"),
                                {"p": f"F{community}-%"}).scalars())
    n = len(taken) + 1
    while f"F{community}-{n:03d}" in taken:
        n += 1
    return f"F{community}-{n:03d}"


def insert(session: Session, values: dict[str, Any]) -> None:
    """Add a facility (``lon``/``lat`` in WGS84)."""
    session.execute(text("""
        INSERT INTO facility (code, type, name, capacity, hours, community_code, geom)
        VALUES (:code, :type, :name, :capacity, :hours, :community_code,
                ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"""), values)


def update(session: Session, values: dict[str, Any]) -> None:
    """Write a facility's fields and position."""
    session.execute(text("""
        UPDATE facility SET type = :type, name = :name, capacity = :capacity, hours = :hours,
               community_code = :community_code,
               geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
        WHERE code = :code"""), values)


def delete(session: Session, code: str) -> None:
    """Remove a facility (its record keeps it; coverage runs lose it as their nearest)."""
    session.execute(text("DELETE FROM facility WHERE code = :c"), {"c": code})


def record(session: Session, *, layer: str, code: str, op: str, before: dict[str, Any] | None,
           after: dict[str, Any] | None, changed_by: str, account_id: int | None) -> int:
    """Record one change; its id."""
    change_id: int = session.execute(text("""
        INSERT INTO data_change (layer, code, op, before, after, changed_by, account_id)
        VALUES (:l, :c, :o, CAST(:b AS jsonb), CAST(:a AS jsonb), :by, :acc) RETURNING id"""),
        {"l": layer, "c": code, "o": op, "b": json.dumps(before, ensure_ascii=False),
         "a": json.dumps(after, ensure_ascii=False), "by": changed_by,
         "acc": account_id}).scalar_one()
    return change_id


def changes(session: Session, *, layer: str, area: str | None, code: str | None,
            limit: int) -> list[dict[str, Any]]:
    """The newest changes of ``layer`` (of one feature, or inside an area prefix)."""
    rows = session.execute(text("""
        SELECT id, layer, code, op, before, after, changed_by, changed_at FROM data_change
        WHERE layer = :l AND (CAST(:c AS text) IS NULL OR code = :c)
          AND (CAST(:a AS text) IS NULL
               OR coalesce(after ->> 'community_code', before ->> 'community_code', '')
                  LIKE :a || '%')
        ORDER BY changed_at DESC, id DESC LIMIT :n"""),
        {"l": layer, "c": code, "a": area, "n": limit}).mappings().all()
    return [dict(r) for r in rows]


def grid(session: Session, code: str, *, lock: bool = False) -> dict[str, Any] | None:
    """One grid's name, community, boundary (GeoJSON and WKB) and since when it holds."""
    row = session.execute(text(
        "SELECT code, name, community_code, synthetic, ST_AsGeoJSON(geom, 7) AS geometry, "
        "ST_AsBinary(geom) AS wkb, valid_from "
        "FROM grid WHERE code = :c" + (" FOR UPDATE" if lock else "")),
        {"c": code}).mappings().one_or_none()
    return dict(row) if row else None


def reshape_problems(session: Session, codes: list[str], wkbs: list[bytes],
                     tolerance_m2: float, *, gone: list[str] | None = None
                     ) -> list[dict[str, Any]]:
    """What the new boundaries would break, with the grids ``gone`` taken away (see
    ``sql/grid_reshape_problems.sql``)."""
    return [dict(r) for r in session.execute(sql("exchange/grid_reshape_problems"), {
        "codes": codes, "wkbs": wkbs, "gone": gone or [],
        "tolerance_m2": tolerance_m2}).mappings()]


def reshape(session: Session, code: str, wkb: bytes, change_id: int, *,
            reason: str = "reshape") -> None:
    """Give the grid a new boundary from now (the trigger keeps the old one in its history)."""
    session.execute(text("UPDATE grid SET geom = ST_SetSRID(ST_GeomFromWKB(:w), 4326) "
                         "WHERE code = :c"), {"c": code, "w": wkb})
    mark_history(session, code, reason=reason, change_id=change_id)


def mark_history(session: Session, code: str, *, reason: str, change_id: int,
                 successor: str | None = None) -> None:
    """Say how the grid's boundary that ended now ended (the trigger wrote it as a reshape or
    a removal) and which change ended it."""
    session.execute(text("""
        UPDATE grid_history SET reason = :r, change_id = :ch, successor = :s
        WHERE code = :c AND valid_to = now()"""),
        {"c": code, "r": reason, "ch": change_id, "s": successor})


def lock_community(session: Session, community: str) -> None:
    """Serialise the splits and merges of one community's grids (the codes they issue, the
    tiling they check)."""
    session.execute(text("SELECT 1 FROM community WHERE code = :c FOR UPDATE"), {"c": community})


def next_grid_codes(session: Session, community: str, n: int) -> list[str]:
    """``n`` new grid codes in a community: after the highest sequence number it ever used
    (a code once used, also by a grid since merged away, is not issued again), then the gaps."""
    used = {int(c[12:]) for c in session.execute(text(
        "SELECT code FROM grid WHERE code LIKE :p UNION SELECT code FROM grid_history "
        "WHERE code LIKE :p"), {"p": community + "%"}).scalars()}
    top = max(used, default=0)
    free = [k for k in range(top + 1, 1000)] + [k for k in range(1, top) if k not in used]
    return [f"{community}{k:03d}" for k in free[:n]]


def add_grid(session: Session, *, code: str, name: str, community: str, wkb: bytes,
             synthetic: bool) -> None:
    """A new grid from now."""
    session.execute(text("""
        INSERT INTO grid (code, name, community_code, synthetic, geom, valid_from)
        VALUES (:c, :n, :cm, :syn, ST_SetSRID(ST_GeomFromWKB(:w), 4326), now())"""),
        {"c": code, "n": name, "cm": community, "syn": synthetic, "w": wkb})


def copy_enrollments(session: Session, source: str, target: str) -> int:
    """Enrol in ``target`` the departments (and their staff) enrolled in ``source``, where the
    department is not enrolled there yet; how many."""
    result = session.execute(text("""
        INSERT INTO grid_enrollment (grid_code, department_code, person_id)
        SELECT :t, department_code, person_id FROM grid_enrollment WHERE grid_code = :s
        ON CONFLICT DO NOTHING"""), {"s": source, "t": target})
    return int(getattr(result, "rowcount", 0) or 0)


def members(session: Session, code: str) -> list[dict[str, Any]]:
    """Who serves in a grid (its worker, Party-member households), with names."""
    rows = session.execute(text("""
        SELECT m.person_id, m.role, p.name FROM grid_member m JOIN person p ON p.id = m.person_id
        WHERE m.grid_code = :c ORDER BY m.role DESC, m.person_id"""), {"c": code}).mappings()
    return [dict(r) for r in rows]


def move_member(session: Session, person_id: int, source: str, target: str) -> None:
    """Someone serving in ``source`` serves in ``target`` instead."""
    session.execute(text("""
        INSERT INTO grid_member (grid_code, person_id, role)
        SELECT :t, person_id, role FROM grid_member WHERE grid_code = :s AND person_id = :p
        ON CONFLICT DO NOTHING"""), {"s": source, "t": target, "p": person_id})
    release_member(session, person_id, source)


def release_member(session: Session, person_id: int, code: str) -> None:
    """Someone no longer serves in a grid."""
    session.execute(text("DELETE FROM grid_member WHERE grid_code = :c AND person_id = :p"),
                    {"c": code, "p": person_id})


def hand_over_cases(session: Session, *, source: str, worker_from: int, worker_to: int,
                    actor_id: int, note: str, payload: dict[str, Any]) -> list[int]:
    """The open cases of grid ``source`` that the grid owns (or that are not dispatched yet) and
    ``worker_from`` works on go to
    ``worker_to``, each with a ``reassign`` event by ``actor_id``; their ids."""
    rows = session.execute(text("""
        WITH moved AS (
          UPDATE "case" c SET owner_person_id = :to, version = c.version + 1, updated_at = now()
          WHERE c.grid_code = :s AND coalesce(c.owner_kind, 'grid') = 'grid'
            AND c.owner_person_id = :from
            AND c.state NOT IN ('closed', 'cancelled')
          RETURNING c.id, c.state)
        INSERT INTO case_event (case_id, action, from_state, to_state, actor_id, note, payload)
        SELECT id, 'reassign', state, state, :actor, :note, CAST(:payload AS jsonb) FROM moved
        ORDER BY id
        RETURNING case_id"""),
        {"s": source, "from": worker_from, "to": worker_to, "actor": actor_id, "note": note,
         "payload": json.dumps(payload, ensure_ascii=False)})
    return [int(r[0]) for r in rows]


def move_buildings(session: Session, source: str, target: str) -> int:
    """Every building of grid ``source`` into ``target``; how many."""
    result = session.execute(text("UPDATE building SET grid_code = :t WHERE grid_code = :s"),
                             {"s": source, "t": target})
    return int(getattr(result, "rowcount", 0) or 0)


def rename_grid(session: Session, code: str, name: str) -> None:
    """Give a grid a new name."""
    session.execute(text("UPDATE grid SET name = :n WHERE code = :c"), {"c": code, "n": name})


def areas_m2(session: Session, wkbs: list[bytes]) -> list[float]:
    """The areas of WGS84 polygons in square metres, on the ellipsoid."""
    return [float(a) for a in session.execute(text(
        "SELECT ST_Area(ST_SetSRID(ST_GeomFromWKB(w), 4326)::geography) "
        "FROM unnest(CAST(:w AS bytea[])) WITH ORDINALITY AS t(w, i) ORDER BY i"),
        {"w": wkbs}).scalars()]


def remove_grid(session: Session, code: str) -> None:
    """Take a grid away (its enrolments go; the trigger keeps its last boundary)."""
    session.execute(text("DELETE FROM grid_enrollment WHERE grid_code = :c"), {"c": code})
    session.execute(text("DELETE FROM grid WHERE code = :c"), {"c": code})


def rehouse_buildings(session: Session, communities: list[str]) -> int:
    """Move the communities' buildings into the grid their inner point now lies in."""
    result = session.execute(text("""
        UPDATE building b SET grid_code = n.code
        FROM (SELECT b2.id, (SELECT g.code FROM grid g
                              WHERE ST_Contains(g.geom, ST_PointOnSurface(b2.geom))
                              ORDER BY g.code LIMIT 1) AS code
              FROM building b2 WHERE left(b2.grid_code, 12) = ANY(:cs)) n
        WHERE b.id = n.id AND n.code IS NOT NULL AND n.code <> b.grid_code"""),
        {"cs": communities})
    return int(getattr(result, "rowcount", 0) or 0)


def grid_history(session: Session, code: str) -> list[dict[str, Any]]:
    """A grid's earlier boundaries, newest first, with how each ended."""
    rows = session.execute(text(
        "SELECT valid_from, valid_to, reason, successor, ST_AsGeoJSON(geom, 7) AS geometry "
        "FROM grid_history "
        "WHERE code = :c ORDER BY valid_to DESC"), {"c": code}).mappings().all()
    return [dict(r) for r in rows]


def check_deferred(session: Session) -> None:
    """Run the grid rules (deferred to commit) now."""
    session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
