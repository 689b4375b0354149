"""Bulk writes with COPY: fast loading of whole layers inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.crs import SRID

# Tables in load order (parents first); clearing goes the other way.
TERRITORY_TABLES = (
    "district", "subdistrict", "community", "grid", "building", "facility",
    "street_node", "street_edge", "person", "grid_member", "grid_enrollment",
)


def clear(session: Session, tables: Sequence[str] = TERRITORY_TABLES) -> None:
    """Empty the given tables (and what references them) in one statement."""
    names = [t for t in tables if t in TERRITORY_TABLES]  # whitelist: identifiers are not bound
    session.execute(text("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY CASCADE"))


def ewkb_hex(geoms: Any) -> npt.NDArray[np.object_]:
    """Hex EWKB (with SRID 4326) of a geometry array, the text form COPY accepts for geometry."""
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), SRID)
    hexes: npt.NDArray[np.object_] = shapely.to_wkb(arr, hex=True, include_srid=True)
    return hexes


def copy_rows(session: Session, table: str, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into ``table(columns)``; returns the number written. Runs in the session's
    transaction, so a failure anywhere rolls back the whole load."""
    if table not in TERRITORY_TABLES:
        raise ValueError(f"not a bulk-loadable table: {table}")
    conn = session.connection().connection.driver_connection
    if not isinstance(conn, psycopg.Connection):
        raise TypeError("COPY needs the psycopg 3 driver (postgresql+psycopg://)")
    cols = ", ".join(columns)  # column names come from our own code, never from input
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # noqa: S608
        for row in rows:
            copy.write_row([_plain(v) for v in row])
            n += 1
    return n


def copy_frame(session: Session, table: str, frame: pd.DataFrame,
               columns: Sequence[str], *, geometry: str | None = None) -> int:
    """COPY a (Geo)DataFrame's ``columns`` (+ its geometry column as ``geom``)."""
    data = [frame[c].to_numpy(dtype=object) for c in columns]
    names = list(columns)
    if geometry is not None:
        data.append(ewkb_hex(frame[geometry].to_numpy()))
        names.append("geom")
    return copy_rows(session, table, names, zip(*data, strict=True))


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
