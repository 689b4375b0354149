"""The case map's points: id, position, state and an overdue flag per case, read in one query.

Rows are plain tuples from SQLAlchemy Core (no ORM objects): the map may ask for tens of
thousands at a time. The bounding box uses the GiST index on ``case.geom`` (``&&``); the filters
are the case board's, so the map and the board always agree on what a filter means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gridmap.access import CaseScope
from gridmap.cases.repositories.board import BoardFilter, conditions, overdue
from gridmap.crs import SRID
from gridmap.models import Case

POINT_CAP = 20_000  # points per request; beyond this the answer says "truncated"
COORD_DIGITS = 6    # about 0.1 m: plenty for a map, and keeps the JSON small

Bbox = tuple[float, float, float, float]
PointRow = tuple[int, float, float, str, int]


@dataclass(frozen=True)
class Points:
    """Up to the cap of ``[id, lon, lat, state, overdue]`` rows, and whether more matched."""

    rows: list[PointRow]
    truncated: bool


def points(session: Session, f: BoardFilter, scope: CaseScope, *, bbox: Bbox | None,
           cap: int = POINT_CAP, as_of: datetime | None = None) -> Points:
    """The filtered cases of ``scope`` inside ``bbox`` (WGS84; None: everywhere), newest first,
    up to ``cap``.

    Parameters
    ----------
    f:
        The board's filters.
    scope:
        The reader's cases (the board's scope condition).
    bbox:
        ``(minx, miny, maxx, maxy)`` in degrees, or None for the whole filtered set.
    cap:
        At most this many rows; ``truncated`` tells whether more matched.
    as_of:
        The instant that decides "overdue" (default: now).
    """
    now = as_of or datetime.now(UTC)
    # The board's own conditions, so that a filter can never mean two things.
    where = conditions(f, scope, as_of=now)
    if bbox is not None:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
        where.append(Case.geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID)))
    stmt = (select(Case.id, func.ST_X(Case.geom), func.ST_Y(Case.geom), Case.state,
                   case((overdue(now), 1), else_=0))
            .where(*where)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(cap + 1))
    rows = session.execute(stmt).all()
    out: list[PointRow] = [(int(r[0]), round(float(r[1]), COORD_DIGITS),
                            round(float(r[2]), COORD_DIGITS), str(r[3]), int(r[4]))
                           for r in rows[:cap]]
    return Points(rows=out, truncated=len(rows) > cap)
