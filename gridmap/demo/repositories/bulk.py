"""Bulk writes with COPY: fast loading of whole layers inside the caller's transaction.

Table and column names cannot be bound parameters, so statements are composed with psycopg's
``sql`` module (each name quoted as an identifier) and tables are checked against a whitelist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from sqlalchemy.orm import Session

from gridmap.crs import SRID

# Tables in load order (parents first); clearing goes the other way.
TERRITORY_TABLES = (
    "district", "subdistrict", "community", "grid", "building", "facility",
    "street_node", "street_edge", "person", "grid_member", "grid_enrollment",
)
CASE_TABLES = ("case", "case_event", "case_cohandler")
"""Tables the demo's historical cases are COPYed into (never cleared here: see services.load)."""
COPY_TABLES = TERRITORY_TABLES + CASE_TABLES


def driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under ``session`` (same transaction), for COPY."""
    conn = session.connection().connection.driver_connection
    if not isinstance(conn, psycopg.Connection):
        raise TypeError("COPY needs the psycopg 3 driver (postgresql+psycopg://)")
    return conn


def clear(session: Session, tables: Sequence[str] = TERRITORY_TABLES) -> None:
    """Empty the given territory tables (and what references them) in one statement."""
    names = [t for t in tables if t in TERRITORY_TABLES]  # whitelist: identifiers are not bound
    statement = sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
        sql.SQL(", ").join(sql.Identifier(t) for t in names))
    driver_connection(session).execute(statement)


def copy_statement(table: str, columns: Sequence[str]) -> sql.Composed:
    """``COPY table (columns) FROM STDIN`` with every name quoted; ``table`` must be whitelisted."""
    if table not in COPY_TABLES:
        raise ValueError(f"not a bulk-loadable table: {table}")
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))


def ewkb_hex(geoms: Any) -> npt.NDArray[np.object_]:
    """Hex EWKB (with SRID 4326) of a geometry array, the text form COPY accepts for geometry."""
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), SRID)
    hexes: npt.NDArray[np.object_] = shapely.to_wkb(arr, hex=True, include_srid=True)
    return hexes


def copy_rows(session: Session, table: str, columns: Sequence[str],
              rows: Iterable[Sequence[Any]], *, plain: bool = False) -> int:
    """COPY rows into ``table(columns)``; returns the number written. Runs in the session's
    transaction, so a failure anywhere rolls back the whole load.

    With ``plain`` the rows already hold Python values and None (no numpy scalars, no NaN),
    and are written as they are.
    """
    statement = copy_statement(table, columns)
    n = 0
    with driver_connection(session).cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row if plain else [_plain(v) for v in row])
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


def analyze(session: Session, table: str) -> None:
    """Fresh statistics for one just-loaded table (whitelisted), inside the load's transaction."""
    if table not in COPY_TABLES:
        raise ValueError(f"not a bulk-loadable table: {table}")
    driver_connection(session).execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


@contextmanager
def grid_cards_deferred(session: Session) -> Iterator[None]:
    """Load with the grid cards' triggers (``grid_card_*``, migration 0002) off, then make every
    card once (set-based) at the end, in the same transaction; every other trigger (the grid
    rules) stays on."""
    raw = driver_connection(session)
    triggers = raw.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                           "WHERE tgname LIKE 'grid\\_card\\_%' AND NOT tgisinternal").fetchall()
    for name, table in triggers:
        raw.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
            sql.Identifier(table), sql.Identifier(name)))
    yield
    raw.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the grid rules, deferred to commit: now
    for name, table in triggers:
        raw.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(
            sql.Identifier(table), sql.Identifier(name)))
    raw.execute("SELECT grid_card_refresh(ARRAY(SELECT code FROM grid))")
