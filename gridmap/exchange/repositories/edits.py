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
    """One grid's name, community, boundary (GeoJSON) and since when it holds."""
    row = session.execute(text(
        "SELECT code, name, community_code, ST_AsGeoJSON(geom, 7) AS geometry, valid_from "
        "FROM grid WHERE code = :c" + (" FOR UPDATE" if lock else "")),
        {"c": code}).mappings().one_or_none()
    return dict(row) if row else None


def reshape_problems(session: Session, codes: list[str], wkbs: list[bytes],
                     tolerance_m2: float) -> list[dict[str, Any]]:
    """What the new boundaries would break (see ``sql/grid_reshape_problems.sql``)."""
    return [dict(r) for r in session.execute(sql("exchange/grid_reshape_problems"), {
        "codes": codes, "wkbs": wkbs, "tolerance_m2": tolerance_m2}).mappings()]


def reshape(session: Session, code: str, wkb: bytes, change_id: int) -> None:
    """Keep the grid's boundary in its history, then give it the new one from now."""
    session.execute(text("""
        INSERT INTO grid_history (code, name, community_code, geom, valid_from, valid_to,
                                  change_id)
        SELECT code, name, community_code, geom, valid_from, now(), :ch FROM grid
        WHERE code = :c"""), {"c": code, "ch": change_id})
    session.execute(text("UPDATE grid SET geom = ST_SetSRID(ST_GeomFromWKB(:w), 4326), "
                         "valid_from = now() WHERE code = :c"), {"c": code, "w": wkb})


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
    """A grid's earlier boundaries, newest first."""
    rows = session.execute(text(
        "SELECT valid_from, valid_to, ST_AsGeoJSON(geom, 7) AS geometry FROM grid_history "
        "WHERE code = :c ORDER BY valid_to DESC"), {"c": code}).mappings().all()
    return [dict(r) for r in rows]


def check_deferred(session: Session) -> None:
    """Run the grid rules (deferred to commit) now."""
    session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
