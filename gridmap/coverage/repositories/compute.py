"""SQL for coverage: the inputs of a computation (streets, buildings, facilities) and its results."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Integer, bindparam, func, select, text
from sqlalchemy.orm import Session

from gridmap.codes import WIDTHS, Level
from gridmap.crs import SRID
from gridmap.models import Community, District, Subdistrict
from gridmap.sqlfiles import sql

AREA_TABLES: dict[Level, type[District] | type[Subdistrict] | type[Community]] = {
    Level.DISTRICT: District, Level.SUBDISTRICT: Subdistrict, Level.COMMUNITY: Community}
"""The areas an envelope may be asked of; the table comes only from here."""


def rule(session: Session, facility_type: str, circle: str) -> dict[str, Any] | None:
    """The coverage rule for a facility type and life circle, or None."""
    row = session.execute(text(
        "SELECT r.max_distance_m, r.walk_speed_mps, r.required, r.source, c.walk_minutes "
        "FROM coverage_rule r JOIN life_circle c ON c.code = r.circle "
        "WHERE r.facility_type = :t AND r.circle = :c"), {"t": facility_type, "c": circle}
    ).mappings().one_or_none()
    return dict(row) if row else None


def rules(session: Session) -> list[tuple[str, str]]:
    """(facility_type, circle) of every coverage rule: those the standard requires first (the
    audit's columns), then by circle and type."""
    rows = session.execute(text(
        "SELECT r.facility_type, r.circle FROM coverage_rule r "
        "JOIN life_circle c ON c.code = r.circle "
        "ORDER BY r.required DESC, c.walk_minutes, r.facility_type")).all()
    return [(str(t), str(c)) for t, c in rows]


def _frame(session: Session, statement: str, columns: list[str],
           params: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Rows whose last column is WKB, as a GeoDataFrame in WGS84 (vectorised decoding)."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    rows = conn.execute(statement, params or {}).fetchall()
    data = {name: [r[i] for r in rows] for i, name in enumerate(columns)}
    geoms = shapely.from_wkb(np.array([r[-1] for r in rows], dtype=object))
    return gpd.GeoDataFrame(data, geometry=geoms, crs=f"EPSG:{SRID}")


Envelope = tuple[float, float, float, float]
_ALL = {"minx": -180.0, "miny": -90.0, "maxx": 180.0, "maxy": 90.0}


def _box(envelope: Envelope | None) -> dict[str, float]:
    if envelope is None:
        return _ALL
    return dict(zip(("minx", "miny", "maxx", "maxy"), (float(v) for v in envelope), strict=True))


def street_nodes(session: Session, envelope: Envelope | None = None) -> gpd.GeoDataFrame:
    """Street nodes (node_id, geometry): all, or the ends of the edges within ``envelope``."""
    if envelope is None:
        return _frame(session, "SELECT id, ST_AsBinary(geom) FROM street_node", ["node_id"])
    return _frame(session, """
        SELECT id, ST_AsBinary(geom) FROM street_node WHERE id IN (
          SELECT source FROM street_edge
           WHERE geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)
          UNION
          SELECT target FROM street_edge
           WHERE geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326))""",
                  ["node_id"], _box(envelope))


def street_edges(session: Session, envelope: Envelope | None = None) -> gpd.GeoDataFrame:
    """Street edges (source, target, length_m, geometry), all or those within ``envelope``."""
    return _frame(session, """
        SELECT source, target, length_m, ST_AsBinary(geom) FROM street_edge
        WHERE geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)""",
                  ["source", "target", "length_m"], _box(envelope))


def area_envelope(session: Session, level: Level, code: str, *, margin_m: float,
                  srid: int) -> Envelope | None:
    """The bounding box of a district/sub-district/community grown by ``margin_m`` metres in
    the metric CRS ``srid``, in WGS84; None if there is no such area."""
    model = AREA_TABLES[level]
    metric = func.ST_Transform(model.geom, bindparam("srid", srid, type_=Integer))
    grown = func.ST_Transform(func.ST_Expand(func.ST_Envelope(metric), float(margin_m)), SRID)
    inner = select(grown.label("e")).where(model.code == code).subquery()
    row = session.execute(select(func.ST_XMin(inner.c.e), func.ST_YMin(inner.c.e),
                                 func.ST_XMax(inner.c.e), func.ST_YMax(inner.c.e))).one_or_none()
    return None if row is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def edit_envelope(session: Session, facility_type: str, add: Sequence[tuple[float, float]],
                  remove: Sequence[int], *, margin_m: float, srid: int) -> Envelope | None:
    """The bounding box of the points ``add`` (WGS84) and the facilities ``remove`` grown by
    ``margin_m`` metres in the metric CRS ``srid``, in WGS84; None when there is neither."""
    row = session.execute(sql("coverage/edit_envelope"), {
        "xs": [float(x) for x, _ in add], "ys": [float(y) for _, y in add], "type": facility_type,
        "ids": [int(i) for i in remove], "srid": int(srid), "margin": float(margin_m)}).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]),
                                        float(row[3]))


def rows_within(session: Session, *, buildings: Envelope, streets: Envelope) -> int:
    """Buildings within one envelope plus street edges within another: what a scene loads."""
    return int(session.execute(text(
        "SELECT (SELECT count(*) FROM building WHERE geom && ST_MakeEnvelope("
        "  :bminx, :bminy, :bmaxx, :bmaxy, 4326))"
        " + (SELECT count(*) FROM street_edge WHERE geom && ST_MakeEnvelope("
        "  :sminx, :sminy, :smaxx, :smaxy, 4326))"),
        {**{"b" + k: v for k, v in _box(buildings).items()},
         **{"s" + k: v for k, v in _box(streets).items()}}).scalar_one())


def known_facilities(session: Session, facility_type: str, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that are facilities of ``facility_type``."""
    rows = session.execute(text("SELECT id FROM facility WHERE type = :t AND id = ANY(:ids)"),
                           {"t": facility_type, "ids": [int(i) for i in ids]})
    return {int(r[0]) for r in rows}


def stored_area_totals(session: Session, run_id: int, *, width: int,
                       leave_out: Sequence[int], area: str | None = None) -> pd.DataFrame:
    """Residents and elderly per area code of ``width`` digits, covered as the stored run says,
    over every building within ``area`` (a code prefix; None: all) except ``leave_out``;
    indexed by code (a building the run does not know counts as uncovered)."""
    rows = session.execute(sql("coverage/stored_area_totals"), {
        "run": int(run_id), "width": int(width), "leave_out": [int(i) for i in leave_out],
        "area": area or ""}).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(AREA_TOTALS)).set_index("code")


AREA_TOTALS = ("code", "residents", "elderly", "residents_covered", "elderly_covered")
"""The columns of :func:`stored_area_totals`."""


def territory_centre(session: Session) -> tuple[float, float] | None:
    """Centre (lon, lat) of the bounding box of every loaded district; None when none is."""
    row = session.execute(sql("coverage/territory_centre")).one()
    return None if row[0] is None else (float(row[0]), float(row[1]))


def area_exists(session: Session, level: Level, code: str) -> bool:
    """Whether the district, sub-district or community ``code`` is loaded."""
    model = AREA_TABLES[level]
    return session.execute(select(model.code).where(model.code == code)).first() is not None


def buildings(session: Session) -> gpd.GeoDataFrame:
    """Every building as a point on its footprint: building_id, geometry."""
    return _frame(session, "SELECT id, ST_AsBinary(ST_PointOnSurface(geom)) FROM building "
                  "ORDER BY id", ["building_id"])


def facilities(session: Session, facility_type: str,
               envelope: Envelope | None = None) -> gpd.GeoDataFrame:
    """The facilities of one type (facility_id, geometry), all or those within ``envelope``."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    rows = conn.execute("""
        SELECT id, ST_AsBinary(geom) FROM facility
        WHERE type = %(type)s
          AND geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)
        ORDER BY id""", {"type": facility_type, **_box(envelope)}).fetchall()
    geoms = shapely.from_wkb(np.array([r[1] for r in rows], dtype=object))
    return gpd.GeoDataFrame({"facility_id": [r[0] for r in rows]}, geometry=geoms,
                            crs=f"EPSG:{SRID}")


def lock_rule(session: Session, facility_type: str, circle: str) -> None:
    """Wait until no other transaction is storing a run of this rule, then hold it until commit.

    Two computes of one rule would otherwise both UPDATE-then-INSERT under the partial unique
    index on the current run, and the later one fail with an IntegrityError.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridmap.coverage_run'), "
                         "hashtext(:t || '/' || :c))"), {"t": facility_type, "c": circle})


def data_versions(session: Session, facility_type: str) -> dict[str, int]:
    """How many times the streets, the buildings and the facilities of ``facility_type`` have
    changed (migration 0010): what a run is computed on."""
    row = session.execute(text("""
        SELECT coalesce((SELECT version FROM data_version
                          WHERE layer = 'streets' AND key = ''), 0) AS streets,
               coalesce((SELECT version FROM data_version
                          WHERE layer = 'buildings' AND key = ''), 0) AS buildings,
               coalesce((SELECT version FROM data_version
                          WHERE layer = 'facilities' AND key = :t), 0) AS facilities"""),
        {"t": facility_type}).mappings().one()
    return {k: int(v) for k, v in row.items()}


def new_run(session: Session, facility_type: str, circle: str, max_distance_m: float,
            params: dict[str, Any], seconds: float, *, metric_srid: int,
            inputs: dict[str, int]) -> int:
    """Record a run as the current one for its type and circle (the previous one stays, not
    current) with the data versions it read; returns its id. The caller holds
    :func:`lock_rule`."""
    session.execute(text("UPDATE coverage_run SET current = false WHERE facility_type = :t "
                         "AND circle = :c AND current"), {"t": facility_type, "c": circle})
    run_id: int = session.execute(text(
        "INSERT INTO coverage_run (facility_type, circle, max_distance_m, params, seconds, "
        "metric_srid, inputs) VALUES (:t, :c, :d, CAST(:p AS jsonb), :s, :srid, "
        "CAST(:i AS jsonb)) RETURNING id"),
        {"t": facility_type, "c": circle, "d": max_distance_m, "p": pd.Series(params).to_json(),
         "s": seconds, "srid": metric_srid, "i": json.dumps(inputs)}).scalar_one()
    return run_id


def store_buildings(session: Session, run_id: int, rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY (building_id, distance_m, facility_id, covered) rows of a run."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    n = 0
    with conn.cursor() as cur, cur.copy(
            "COPY coverage_building (run_id, building_id, distance_m, facility_id, covered) "
            "FROM STDIN") as copy:
        for row in rows:
            copy.write_row((run_id, *row))
            n += 1
    return n


def aggregate(session: Session, run_id: int) -> None:
    """Fill coverage_area for the run: grid, community, sub-district and district totals."""
    levels = list(WIDTHS)
    session.execute(sql("coverage/aggregate"), {"run": run_id, "levels": [str(v) for v in levels],
                                                "widths": [WIDTHS[v] for v in levels]})


def totals(session: Session, run_id: int) -> dict[str, float]:
    """Coverage rates of residents and elderly over everything the run measured."""
    row = session.execute(text(
        "SELECT coalesce(sum(residents_covered)::float / nullif(sum(residents), 0), 0),"
        "       coalesce(sum(elderly_covered)::float / nullif(sum(elderly), 0), 0) "
        "FROM coverage_area WHERE run_id = :r AND level = 'district'"), {"r": run_id}).one()
    return {"residents_rate": float(row[0]), "elderly_rate": float(row[1])}


def set_seconds(session: Session, run_id: int, seconds: float) -> None:
    """Record how long the run took."""
    session.execute(text("UPDATE coverage_run SET seconds = :s WHERE id = :r"),
                    {"s": seconds, "r": run_id})


def current_run(session: Session, facility_type: str, circle: str) -> int | None:
    """The id of the current run for a facility type and circle, if any."""
    run_id: int | None = session.execute(text(
        "SELECT id FROM coverage_run WHERE facility_type = :t AND circle = :c AND current"),
        {"t": facility_type, "c": circle}).scalar_one_or_none()
    return run_id


def facility_ids_by_code(session: Session, facility_type: str, codes: list[str]) -> dict[str, int]:
    """Ids of the facilities of ``facility_type`` with these codes (unknown codes left out)."""
    rows = session.execute(text("SELECT code, id FROM facility WHERE type = :t AND code = ANY(:c)"),
                           {"t": facility_type, "c": codes})
    return {str(code): int(id_) for code, id_ in rows}
