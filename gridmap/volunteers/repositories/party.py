"""Reads of the Party layers: counts per grid, branches, groups and central households."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.sqlfiles import sql


def _rows(session: Session, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(sql(f"volunteers/{name}"), params).mappings()]


def counts(session: Session, prefix: str, *, with_geom: bool) -> list[dict[str, Any]]:
    """Per grid of the area: its branch, groups and households counted (no person)."""
    return _rows(session, "party_counts", {"prefix": prefix, "with_geom": with_geom})


def branches(session: Session, prefix: str) -> list[dict[str, Any]]:
    """The area's branches with the union of their grids as GeoJSON text."""
    return _rows(session, "party_branches", {"prefix": prefix})


def groups(session: Session, prefix: str) -> list[dict[str, Any]]:
    """The area's building Party groups with a point on their building and their leader."""
    return _rows(session, "party_groups", {"prefix": prefix})


def households(session: Session, prefix: str,
               grids: Collection[str] | None) -> list[dict[str, Any]]:
    """The central households of the area (of ``grids`` only, when given)."""
    return _rows(session, "party_households", {
        "prefix": prefix, "grids": None if grids is None else sorted(grids)})


def busiest_district(session: Session) -> str | None:
    """The district with the most grid Party branches (None before any is loaded)."""
    found: str | None = session.execute(text(
        "SELECT left(community_code, 6) FROM party_branch GROUP BY 1 "
        "ORDER BY count(*) DESC, 1 LIMIT 1")).scalar_one_or_none()
    return found
