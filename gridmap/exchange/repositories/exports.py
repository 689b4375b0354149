"""SQL of an export: a layer's fields and geometry (as WKB), in the order of their codes, read
in batches through a server-side cursor (memory follows the batch, not the layer), and the
geometry type the layer's table declares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from psycopg import sql as q
from sqlalchemy.orm import Session

from gridmap.exchange.repositories.connection import driver

FILTER_COLUMN = {"district": "code", "subdistrict": "code", "community": "code", "grid": "code",
                 "building": "grid_code", "facility": "community_code"}
"""The column an area prefix narrows each table by (its code, or the code of what it lies in);
streets carry no code and are narrowed by the area's outline (:data:`OUTLINE_TABLE`)."""
OUTLINE_TABLE = {6: "district", 9: "subdistrict", 12: "community"}
"""The table holding an area's outline, by the length of its code."""


def batches(session: Session, table: str, columns: Sequence[str], *, area: str | None,
            bbox: tuple[float, float, float, float] | None = None,
            facility_type: str | None = None, batch: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of ``columns`` of ``table`` and the geometry as WKB (last), ``batch`` rows at a
    time, by code."""
    where: list[q.Composable] = [q.SQL("true")]
    params: dict[str, object] = {}
    if bbox is not None:
        where.append(q.SQL("geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)"))
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    if area and table not in FILTER_COLUMN:  # the streets crossing the area's outline
        where.append(q.SQL("ST_Intersects(geom, (SELECT o.geom FROM {} o WHERE o.code = "
                           "%(area)s))").format(q.Identifier(OUTLINE_TABLE[len(area)])))
        params["area"] = area
    elif area:
        where.append(q.SQL("{} LIKE %(prefix)s").format(q.Identifier(FILTER_COLUMN[table])))
        params["prefix"] = area + "%"
    if facility_type:
        where.append(q.SQL("type = %(type)s"))
        params["type"] = facility_type
    order = q.Identifier("id" if table == "street_edge" else "code")
    statement = q.SQL("SELECT {cols}, ST_AsBinary(geom) AS wkb FROM {table} WHERE {where} "
                      "ORDER BY {order}").format(
        cols=q.SQL(", ").join(q.Identifier(c) for c in columns), table=q.Identifier(table),
        where=q.SQL(" AND ").join(where), order=order)
    raw = driver(session)
    with raw.cursor(name="gridmap_export") as cur:
        cur.itersize = batch
        cur.execute(statement, params)
        while rows := cur.fetchmany(batch):
            yield rows
            del rows  # one batch in memory at a time, not this one and the next


def geometry_type(session: Session, table: str) -> str:
    """The geometry type ``table`` declares (``POLYGON``, ``POINT`` …; ``GEOMETRY`` if any)."""
    found = driver(session).execute(
        "SELECT type FROM geometry_columns WHERE f_table_schema = current_schema() "
        "AND f_table_name = %(t)s AND f_geometry_column = 'geom'", {"t": table}).fetchone()
    return str(found[0]) if found else "GEOMETRY"
