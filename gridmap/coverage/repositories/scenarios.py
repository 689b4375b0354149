"""Saved what-if scenarios (migration 0016): insert, read within a planner's view, delete.

A scenario's request and answer are stored as JSON as the service built them; the SQL here
only adds who may see a row (the owner, or a planner whose area holds the scenario's area) and
whether a newer coverage run exists for its rule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_COLUMNS = """s.id, s.name, s.note, s.owner_id, s.owner_name, s.area_code, s.created_at,
       s.facility_type, s.circle, s.level, s.run_id, s.run_computed_at, s.added, s.removed,
       s.result,
       EXISTS (SELECT 1 FROM coverage_run r WHERE r.facility_type = s.facility_type
               AND r.circle = s.circle AND r.current
               AND r.computed_at > s.run_computed_at) AS newer_run"""
# Seen by its owner; by a city-wide planner (:area NULL); by a planner of a district when the
# scenario was saved inside it (a city-wide scenario holds other districts' figures).
_VISIBLE = """(s.owner_id = :me OR CAST(:area AS text) IS NULL
        OR starts_with(coalesce(s.area_code, ''), CAST(:area AS text))
           AND s.area_code IS NOT NULL)"""


def insert(session: Session, row: dict[str, Any]) -> int:
    """Store one scenario (``row``: the table's columns but id and created_at); its id."""
    values = {**row, **{k: json.dumps(row[k], ensure_ascii=False)
                        for k in ("added", "removed", "result")}}
    new_id: int = session.execute(text(
        "INSERT INTO whatif_scenario (name, note, owner_id, owner_name, area_code, "
        "facility_type, circle, level, run_id, run_computed_at, added, removed, result) "
        "VALUES (:name, :note, :owner_id, :owner_name, :area_code, :facility_type, :circle, "
        ":level, :run_id, :run_computed_at, CAST(:added AS jsonb), CAST(:removed AS jsonb), "
        "CAST(:result AS jsonb)) RETURNING id"), values).scalar_one()
    return new_id


def visible(session: Session, *, me: int, area: str | None,
            ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Scenarios the planner ``me`` (of ``area``; None: the city) may see, newest first;
    only those of ``ids`` when given."""
    only = "AND s.id = ANY(:ids)" if ids is not None else ""
    rows = session.execute(text(
        f"SELECT {_COLUMNS} FROM whatif_scenario s WHERE {_VISIBLE} {only} "  # noqa: S608
        "ORDER BY s.created_at DESC, s.id DESC"),
        {"me": me, "area": area, "ids": list(ids or [])}).mappings().all()
    return [dict(r) for r in rows]


def delete(session: Session, scenario_id: int) -> None:
    """Delete one scenario."""
    session.execute(text("DELETE FROM whatif_scenario WHERE id = :i"), {"i": scenario_id})


def facility_places(session: Session, facility_type: str,
                    ids: Sequence[int]) -> list[dict[str, Any]]:
    """Facilities of ``ids`` (of the type) with code, name and WGS84 point, in ``ids``' order."""
    rows = session.execute(text(
        "SELECT id, code, name, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facility "
        "WHERE type = :t AND id = ANY(:ids)"), {"t": facility_type, "ids": list(ids)})
    found = {r["id"]: dict(r) for r in rows.mappings()}
    return [found[i] for i in ids if i in found]


def facility_ids(session: Session, facility_type: str, codes: Sequence[str]) -> dict[str, int]:
    """Ids of the facilities of the type with these codes (unknown codes left out)."""
    rows = session.execute(text("SELECT code, id FROM facility WHERE type = :t "
                                "AND code = ANY(:c)"), {"t": facility_type, "c": list(codes)})
    return {str(code): int(i) for code, i in rows.all()}


_AREA_TABLES = {"district": "district", "subdistrict": "subdistrict", "community": "community",
                "grid": "grid"}


def run_computed_at(session: Session, run_id: int) -> Any:
    """When the run ``run_id`` was computed."""
    return session.execute(text("SELECT computed_at FROM coverage_run WHERE id = :r"),
                           {"r": run_id}).scalar_one()


def area_shapes(session: Session, level: str, codes: Sequence[str]) -> dict[str, str]:
    """Outlines of the areas of ``level`` with these codes, as GeoJSON text (6 decimals)."""
    table = _AREA_TABLES[level]  # a whitelisted identifier, never a request's text
    rows = session.execute(text(f"SELECT code, ST_AsGeoJSON(geom, 6) FROM {table} "  # noqa: S608
                                "WHERE code = ANY(:c)"), {"c": list(codes)})
    return {str(c): str(g) for c, g in rows.all()}
