"""SQL of editing facilities on the map: a facility by code (locked for the change), the
community a point lies in, the writes, and the record of each change."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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
