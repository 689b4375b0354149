"""SQL of an OpenStreetMap buildings or facilities import, before the common staging: which
footprints lie in a grid, the counts of buildings already loaded, the facility types' names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.exchange.repositories.connection import driver

COUNTS = ("households", "residents", "aged_60_plus", "aged_80_plus", "elderly_living_alone")
"""A building's counts of people (unknown in OpenStreetMap)."""


def in_grids(session: Session, footprints: Sequence[bytes]) -> npt.NDArray[np.bool_]:
    """Whether each footprint (WKB, WGS84) has its inner point in a grid: the same test as the
    import's own grid assignment (``ST_PointOnSurface`` in PostGIS), so they agree."""
    if not footprints:
        return np.zeros(0, dtype=bool)
    rows = driver(session).execute("""
        SELECT f.i FROM unnest(%(g)s::bytea[]) WITH ORDINALITY AS f(wkb, i)
        WHERE EXISTS (SELECT 1 FROM grid g
                      WHERE ST_Contains(g.geom, ST_PointOnSurface(ST_GeomFromWKB(f.wkb, 4326))))
        """, {"g": list(footprints)}).fetchall()
    inside = np.zeros(len(footprints), dtype=bool)
    inside[np.asarray([int(r[0]) - 1 for r in rows], dtype=np.int64)] = True
    return inside


def loaded_counts(session: Session, codes: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """The counts of the buildings already loaded under ``codes``."""
    rows = session.execute(text(
        "SELECT code, households, residents, aged_60_plus, aged_80_plus, elderly_living_alone "
        "FROM building WHERE code = ANY(:codes)"), {"codes": list(codes)}).all()
    return {str(r[0]): tuple(int(v) for v in r[1:]) for r in rows}


def facility_type_names(session: Session) -> dict[str, str]:
    """Each facility type's Chinese name (a facility without a name in OSM is called so)."""
    rows: Any = session.execute(text("SELECT code, name_zh FROM facility_type")).all()
    return {str(code): str(name) for code, name in rows}
