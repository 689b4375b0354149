"""The advisory lock that lets each planner run one siting or what-if at a time.

A session-level PostgreSQL advisory lock, taken without waiting on a connection the request
holds for itself, so it is shared by every worker process and released by the server if the
process dies (the connection closes). Keyed by the account: (:data:`LOCK_CLASS`, account id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gridmap.sqlfiles import sql

LOCK_CLASS = 0x676D_706C
"""First key of the lock ("gmpl": gridmap planning), keeping it apart from other advisory locks."""
_INT4 = 0x7FFF_FFFF


def _keys(account_id: int) -> dict[str, int]:
    # The two-key form takes int4s. Account ids beyond 2**31 would share a key with a smaller
    # one: the only effect would be that two such planners wait for each other.
    return {"cls": LOCK_CLASS, "key": account_id & _INT4}


def try_lock(conn: Connection, account_id: int) -> bool:
    """Take the planning lock of ``account_id`` on ``conn`` if nobody holds it; whether it did."""
    taken = conn.execute(text("SELECT pg_try_advisory_lock(CAST(:cls AS int), CAST(:key AS int))"),
                         _keys(account_id)).scalar_one()
    return bool(taken)


def unlock(conn: Connection, account_id: int) -> None:
    """Release the planning lock of ``account_id`` that ``conn`` holds."""
    conn.execute(text("SELECT pg_advisory_unlock(CAST(:cls AS int), CAST(:key AS int))"),
                 _keys(account_id))


def site_places(session: Session, points: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """For each WGS84 (lon, lat): ``community_code``, ``community``, the nearest named
    ``street`` and ``street_m`` (None where there is none), in the order given."""
    if not points:
        return []
    rows = session.execute(sql("coverage/site_places"),
                           {"lons": [float(p[0]) for p in points],
                            "lats": [float(p[1]) for p in points]}).mappings()
    return [{"community_code": r["community_code"], "community": r["community"],
             "street": r["street"],
             "street_m": None if r["street_m"] is None else round(float(r["street_m"]))}
            for r in rows]


def area_names(session: Session, area_codes: Sequence[str]) -> dict[str, str]:
    """Name of each area code (any level); unknown codes are left out."""
    if not area_codes:
        return {}
    rows = session.execute(sql("coverage/area_names"), {"codes": list(area_codes)})
    return {str(r[0]): str(r[1]) for r in rows}


def building_outlines(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """``id``, ``name``, ``grid_code`` and the footprint (a GeoJSON geometry as text) of
    each building in ``ids``, by id."""
    if not ids:
        return []
    rows = session.execute(sql("coverage/building_outlines"), {"ids": [int(i) for i in ids]})
    return [dict(r) for r in rows.mappings()]
