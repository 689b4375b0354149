"""SQL of a street-network import: the walking network replaced as a whole, by COPY."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from psycopg import sql as q
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.exchange.repositories.connection import driver


def counts(session: Session) -> tuple[int, int]:
    """(nodes, edges) loaded now."""
    row = session.execute(text("SELECT (SELECT count(*) FROM street_node), "
                               "(SELECT count(*) FROM street_edge)")).one()
    return int(row[0]), int(row[1])


def _copy(session: Session, table: str, columns: Sequence[str], frame: gpd.GeoDataFrame) -> None:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    hexes = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    data = [frame[c].tolist() for c in columns] + [hexes.tolist()]
    statement = q.SQL("COPY {} ({}) FROM STDIN").format(
        q.Identifier(table), q.SQL(", ").join(q.Identifier(c) for c in [*columns, "geom"]))
    with driver(session).cursor() as cur, cur.copy(statement) as copy:
        for row in zip(*data, strict=True):
            copy.write_row(row)


def replace_network(session: Session, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
    """Replace every street node and edge with ``nodes`` and ``edges`` (ids as given)."""
    session.execute(text("DELETE FROM street_edge"))
    session.execute(text("DELETE FROM street_node"))
    _copy(session, "street_node", ["id"], nodes.rename(columns={"node_id": "id"}))
    _copy(session, "street_edge", ["id", "source", "target", "length_m", "kind", "name"],
          edges.rename(columns={"edge_id": "id"}))
    session.execute(text("ANALYZE street_node"))
    session.execute(text("ANALYZE street_edge"))
