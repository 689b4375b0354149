"""SQL of an import: the staged features (a temporary table, dropped at commit), the checks that
need what is loaded, the datum fit, the difference with what is loaded, the write, the record.

Table and column names come from the layer specs (never from a file or a request) and are
composed with psycopg's ``sql`` module as identifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
import shapely
from psycopg import sql as q
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.codes import WIDTHS, Level
from gridmap.exchange.layers import Kind, LayerSpec
from gridmap.exchange.repositories.connection import driver
from gridmap.models import DataImport
from gridmap.sqlfiles import sql

STAGE = "import_stage"
EXTENT_MARGIN_DEG = 0.05
"""The city's extent is its districts' box widened by this (about 5 km)."""

PARENT_COLUMN = {Level.SUBDISTRICT: "district_code", Level.COMMUNITY: "subdistrict_code",
                 Level.GRID: "community_code"}
PARENT_TABLE = {Level.SUBDISTRICT: "district", Level.COMMUNITY: "subdistrict",
                Level.GRID: "community"}
_DEFAULTS = {"address": "''", "hours": "''", "households": "0", "residents": "0",
             "aged_60_plus": "0", "aged_80_plus": "0", "elderly_living_alone": "0"}


def create_stage(session: Session, spec: LayerSpec, frame: gpd.GeoDataFrame) -> None:
    """Stage the checked features (``row``, the layer's fields, ``geom``; None where refused).

    Binary COPY with the geometries as EWKB (no hex text to write and parse). Counts are staged
    as ``bigint`` so an absurd count reaches the report instead of failing the COPY. Only the
    area layers, whose checks join the staged shapes with each other and with the loaded ones,
    get a spatial index and geometry statistics."""
    columns: list[q.Composable] = [q.SQL("row integer PRIMARY KEY")]
    types: list[str | int] = ["int4"]
    for fld in spec.fields:
        kind = "bigint" if fld.kind is Kind.COUNT else "text"
        columns.append(q.SQL("{} " + kind).format(q.Identifier(fld.name)))
        types.append("int8" if fld.kind is Kind.COUNT else "text")
    columns.append(q.SQL("geom geometry(Geometry, 4326)"))
    raw = driver(session)
    raw.execute(q.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
        q.Identifier(STAGE), q.SQL(", ").join(columns)))
    names = ["row", *spec.names, "geom"]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = np.flatnonzero(pd.notna(geoms))
    ewkb = np.full(len(geoms), None, dtype=object)
    if len(present):
        ewkb[present] = shapely.to_wkb(shapely.set_srid(geoms[present], 4326),
                                       include_srid=True)
    data = [frame["row"].tolist(), *(frame[n].tolist() for n in spec.names), ewkb.tolist()]
    statement = q.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        q.Identifier(STAGE), q.SQL(", ").join(q.Identifier(n) for n in names))
    with raw.cursor() as cur:
        geometry = _geometry_oid(cur)
        cur.adapters.register_dumper(None, type("EwkbDumper", (BytesBinaryDumper,),
                                                {"oid": geometry}))
        with cur.copy(statement) as copy:
            copy.set_types([*types, geometry])
            for values in zip(*data, strict=True):
                copy.write_row(values)
    area = spec.level is not None
    if area:
        raw.execute(q.SQL("CREATE INDEX ON {} USING gist (geom)").format(q.Identifier(STAGE)))
    raw.execute(q.SQL("CREATE INDEX ON {} (code)").format(q.Identifier(STAGE)))
    analyzed = q.SQL("") if area else q.SQL(" ({})").format(
        q.SQL(", ").join(q.Identifier(n) for n in names[:-1]))
    raw.execute(q.SQL("ANALYZE {}{}").format(q.Identifier(STAGE), analyzed))


def _geometry_oid(cur: psycopg.Cursor[Any]) -> int:
    """PostGIS's ``geometry`` type (its oid differs from one database to the next)."""
    found = cur.execute("SELECT 'geometry'::regtype::oid").fetchone()
    assert found is not None
    return int(found[0])


def city_extent(session: Session) -> tuple[float, float, float, float] | None:
    """The loaded districts' box, widened by :data:`EXTENT_MARGIN_DEG`; None when empty."""
    row = session.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(geom) AS e FROM district) x")).one()
    if row[0] is None:
        return None
    m = EXTENT_MARGIN_DEG
    return (float(row[0]) - m, float(row[1]) - m, float(row[2]) + m, float(row[3]) + m)


def facility_types(session: Session) -> set[str]:
    """The facility types known (table ``facility_type``)."""
    return {str(c) for c in session.execute(text("SELECT code FROM facility_type")).scalars()}


def missing_parents(session: Session, spec: LayerSpec) -> list[tuple[int, str, str, str]]:
    """(row, code, field, parent code) of staged features whose parent is not loaded: a
    territory level's own parent (from its code), a building's given grid, a facility's given
    community."""
    checks: list[tuple[str, str, str, int]] = []
    if spec.level in PARENT_TABLE:
        level = spec.level
        parent = {Level.SUBDISTRICT: Level.DISTRICT, Level.COMMUNITY: Level.SUBDISTRICT,
                  Level.GRID: Level.COMMUNITY}[level]
        checks.append(("code", PARENT_TABLE[level], "code", WIDTHS[parent]))
    if spec.name == "buildings":
        checks.append(("grid_code", "grid", "grid_code", 15))
    if spec.name == "facilities":
        checks.append(("community_code", "community", "community_code", 12))
    found: list[tuple[int, str, str, str]] = []
    for field, table, column, width in checks:
        rows = driver(session).execute(q.SQL(
            "SELECT s.row, s.code, left(s.{col}, %(w)s) FROM {stage} s "
            "WHERE s.{col} IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM {table} p WHERE p.code = left(s.{col}, %(w)s)) ORDER BY s.row").format(
            col=q.Identifier(column), stage=q.Identifier(STAGE), table=q.Identifier(table)),
            {"w": width}).fetchall()
        found += [(int(r[0]), str(r[1] or ""), field, str(r[2])) for r in rows]
    return found


def _geometry_rows(session: Session, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = session.execute(sql(f"exchange/{name}"), dict(params)).mappings().all()
    out = []
    for r in rows:
        row = dict(r)
        for key, value in row.items():
            if isinstance(value, bytes | memoryview):
                row[key] = shapely.from_wkb(bytes(value))
        out.append(row)
    return out


def grids_outside(session: Session, tolerance_m2: float) -> list[dict[str, Any]]:
    """Staged grids leaving their community (row, code, area_m2, outside)."""
    return _geometry_rows(session, "grids_outside_community", {"tolerance_m2": tolerance_m2})


def grid_overlaps(session: Session, tolerance_m2: float, *, replace: bool) -> list[dict[str, Any]]:
    """Overlapping grids as they will be (row, code, other, area_m2, overlap)."""
    return _geometry_rows(session, "grid_overlaps", {"tolerance_m2": tolerance_m2,
                                                     "replace": replace})


def community_gaps(session: Session, tolerance_m2: float, *,
                   replace: bool) -> list[dict[str, Any]]:
    """Land of the file's communities no grid will cover (code, area_m2, gap)."""
    return _geometry_rows(session, "community_gaps", {"tolerance_m2": tolerance_m2,
                                                      "replace": replace})


def assign_grids(session: Session) -> list[tuple[int, str]]:
    """Give staged buildings without a grid the grid their inner point lies in; (row, code) of
    those in none."""
    session.execute(text("""
        UPDATE import_stage s SET grid_code = (
          SELECT g.code FROM grid g WHERE ST_Contains(g.geom, ST_PointOnSurface(s.geom))
          ORDER BY g.code LIMIT 1)
        WHERE s.grid_code IS NULL AND s.geom IS NOT NULL"""))
    rows = session.execute(text("SELECT row, code FROM import_stage "
                                "WHERE grid_code IS NULL AND geom IS NOT NULL ORDER BY row"))
    return [(int(r), str(c or "")) for r, c in rows]


def assign_communities(session: Session) -> list[tuple[int, str]]:
    """Give staged facilities without a community the one they lie in; (row, code) of those in
    none (they keep none)."""
    session.execute(text("""
        UPDATE import_stage s SET community_code = (
          SELECT c.code FROM community c WHERE ST_Contains(c.geom, s.geom)
          ORDER BY c.code LIMIT 1)
        WHERE s.community_code IS NULL AND s.geom IS NOT NULL"""))
    rows = session.execute(text("SELECT row, code FROM import_stage "
                                "WHERE community_code IS NULL AND geom IS NOT NULL ORDER BY row"))
    return [(int(r), str(c or "")) for r, c in rows]


def fit(session: Session, spec: LayerSpec, basis: str,
        points: Mapping[str, npt.NDArray[np.float64]], codes: Sequence[str]) -> tuple[dict[str, float], int]:
    """The median distance in metres under each datum hypothesis (see
    :class:`gridmap.exchange.georef.Basis`) and how many points it was measured on."""
    medians: dict[str, float] = {}
    n = 0
    for datum, xy in points.items():
        params = {"codes": list(codes), "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist()}
        if basis == "same_code":
            statement: q.SQL | q.Composed = q.SQL("""
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Distance(
                         ST_PointOnSurface(t.geom)::geography,
                         ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)::geography)), count(*)
                FROM unnest(%(codes)s::text[], %(x)s::float8[], %(y)s::float8[]) AS p(code, x, y)
                JOIN {table} t ON t.code = p.code""").format(table=q.Identifier(spec.table))
        elif basis == "parent":
            level = spec.level
            assert level in PARENT_TABLE
            width = WIDTHS[{Level.SUBDISTRICT: Level.DISTRICT, Level.COMMUNITY: Level.SUBDISTRICT,
                            Level.GRID: Level.COMMUNITY}[level]]
            statement = q.SQL("""
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Distance(
                         t.geom::geography, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)::geography)),
                       count(*)
                FROM unnest(%(codes)s::text[], %(x)s::float8[], %(y)s::float8[]) AS p(code, x, y)
                JOIN {table} t ON t.code = left(p.code, {width})""").format(
                table=q.Identifier(PARENT_TABLE[level]), width=q.Literal(width))
        else:
            statement = q.SQL("""
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), count(*) FROM (
                  SELECT (SELECT ST_Distance(e.geom::geography, pt::geography)
                            FROM street_edge e ORDER BY e.geom <-> pt LIMIT 1) AS d
                  FROM (SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt
                        FROM unnest(%(x)s::float8[], %(y)s::float8[]) AS p(x, y)) s) m
                WHERE d IS NOT NULL""")
        median, count = driver(session).execute(statement, params).fetchone() or (None, 0)
        if median is None:
            return {}, 0
        medians[datum] = float(median)
        n = int(count)
    return medians, n


def has_rows(session: Session, table: str) -> bool:
    """Whether ``table`` (a layer's or the streets') holds anything."""
    return bool(driver(session).execute(q.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
        q.Identifier(table))).fetchone()[0])  # type: ignore[index]


def _columns(spec: LayerSpec) -> list[tuple[str, q.Composable]]:
    """The target table's columns an import writes, with the staged expression of each."""
    out: list[tuple[str, q.Composable]] = []
    for fld in spec.fields:
        expr: q.Composable = q.SQL("s.{}").format(q.Identifier(fld.name))
        if fld.name in _DEFAULTS:
            expr = q.SQL("coalesce(s.{}, {})").format(q.Identifier(fld.name),
                                                     q.SQL(_DEFAULTS[fld.name]))
        out.append((fld.name, expr))
    if spec.level in PARENT_COLUMN:
        level = spec.level
        width = WIDTHS[{Level.SUBDISTRICT: Level.DISTRICT, Level.COMMUNITY: Level.SUBDISTRICT,
                        Level.GRID: Level.COMMUNITY}[level]]
        out.append((PARENT_COLUMN[level], q.SQL("left(s.code, {})").format(q.Literal(width))))
    out.append(("geom", q.SQL("s.geom")))
    return out


def _differs(spec: LayerSpec) -> q.Composable:
    """``t`` (loaded) and ``s`` (staged) differ in a written column (geometry: by more than
    about a centimetre, so a round trip through another CRS is no change)."""
    parts: list[q.Composable] = [q.SQL("t.{} IS DISTINCT FROM {}").format(q.Identifier(name), expr)
                                 for name, expr in _columns(spec) if name != "geom"]
    parts.append(q.SQL("(NOT ST_OrderingEquals(t.geom, s.geom) AND "
                       "ST_HausdorffDistance(t.geom, s.geom) > 1e-7)"))
    return q.SQL("(") + q.SQL(" OR ").join(parts) + q.SQL(")")


def _scope(spec: LayerSpec, whole_layer: bool) -> q.Composable:
    """Which loaded rows a replace may remove: the whole layer, or those of the file's area —
    the parents its features are in (and, for facilities, of the types it holds)."""
    if whole_layer or spec.level is Level.DISTRICT:
        return q.SQL("true")
    if spec.level in PARENT_COLUMN:
        column = PARENT_COLUMN[spec.level]
        return q.SQL("t.{col} IN (SELECT DISTINCT {expr} FROM import_stage s)").format(
            col=q.Identifier(column), expr=dict(_columns(spec))[column])
    if spec.name == "buildings":
        return q.SQL("t.grid_code IN (SELECT DISTINCT grid_code FROM import_stage)")
    return q.SQL("t.community_code IN (SELECT DISTINCT community_code FROM import_stage) "
                 "AND t.type IN (SELECT DISTINCT type FROM import_stage)")


def difference(session: Session, spec: LayerSpec, *, replace: bool,
               whole_layer: bool, sample: int = 20) -> dict[str, Any]:
    """What writing would do: counts of added, changed, unchanged and (with ``replace``)
    removed features, and the first codes of each."""
    table = q.Identifier(spec.table)
    rows = driver(session).execute(q.SQL("""
        SELECT CASE WHEN t.code IS NULL THEN 'added' WHEN {differs} THEN 'changed'
                    ELSE 'unchanged' END AS change, s.code
        FROM import_stage s LEFT JOIN {table} t ON t.code = s.code
        WHERE s.geom IS NOT NULL ORDER BY s.row""").format(
        differs=_differs(spec), table=table)).fetchall()
    removed: list[str] = []
    if replace:
        removed = [str(c) for (c,) in driver(session).execute(q.SQL("""
            SELECT t.code FROM {table} t WHERE {scope}
               AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.code = t.code)
            ORDER BY t.code""").format(table=table, scope=_scope(spec, whole_layer)))]
    out: dict[str, Any] = {"added": 0, "changed": 0, "unchanged": 0, "removed": len(removed)}
    codes: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": [],
                                   "removed": removed[:sample]}
    for change, code in rows:
        out[change] += 1
        if len(codes[change]) < sample:
            codes[change].append(str(code))
    out["codes"] = codes
    out["removed_all"] = removed
    return out


BLOCKERS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "grids": (("case", "grid_code", "件案件", "case(s)"),
              ("grid_member", "grid_code", "名网格员或党员中心户", "grid worker(s) or Party household(s)"),
              ("grid_enrollment", "grid_code", "个部门报到", "department enrolment(s)")),
    "communities": (("grid", "community_code", "个网格", "grids"),
                    ("facility", "community_code", "处设施", "facilities"),
                    ("person", "community_code", "名人员", "people")),
    "subdistricts": (("community", "subdistrict_code", "个社区", "communities"),),
    "districts": (("subdistrict", "district_code", "个街道", "sub-districts"),),
}
"""What keeps a loaded feature from being removed by a replace (rows that refer to it)."""


def removal_blockers(session: Session, spec: LayerSpec,
                     codes: Sequence[str]) -> list[tuple[str, str, str]]:
    """(code, Chinese, English) for each feature to remove that others still refer to."""
    found: list[tuple[str, str, str]] = []
    for table, column, zh, en in BLOCKERS.get(spec.name, ()):
        rows = driver(session).execute(q.SQL(
            "SELECT {col}, count(*) FROM {table} WHERE {col} = ANY(%(codes)s) "
            "GROUP BY {col} ORDER BY {col}").format(col=q.Identifier(column),
                                                    table=q.Identifier(table)),
            {"codes": list(codes)}).fetchall()
        found += [(str(code), f"仍有 {n} {zh}", f"still has {n} {en}") for code, n in rows]
    return found


def write(session: Session, spec: LayerSpec, *, replace: bool, whole_layer: bool) -> None:
    """Insert the new features, update the changed ones, and with ``replace`` remove the
    loaded ones of the scope the file does not hold (buildings of reshaped grids follow)."""
    columns = _columns(spec)
    table = q.Identifier(spec.table)
    names = q.SQL(", ").join(q.Identifier(n) for n, _ in columns)
    updates = q.SQL(", ").join(q.SQL("{0} = EXCLUDED.{0}").format(q.Identifier(n))
                               for n, _ in columns if n != "code")
    raw = driver(session)
    written = [q.Identifier(n) for n, _ in columns if n != "geom"]
    changed = q.SQL(" OR ").join(
        [q.SQL("t.{0} IS DISTINCT FROM EXCLUDED.{0}").format(n) for n in written]
        + [q.SQL("(NOT ST_OrderingEquals(t.geom, EXCLUDED.geom) AND "
                 "ST_HausdorffDistance(t.geom, EXCLUDED.geom) > 1e-7)")])
    raw.execute(q.SQL("""
        INSERT INTO {table} AS t ({names})
        SELECT {exprs} FROM import_stage s WHERE s.geom IS NOT NULL ORDER BY s.row
        ON CONFLICT (code) DO UPDATE SET {updates}
        WHERE {changed}""").format(
        table=table, names=names, exprs=q.SQL(", ").join(e for _, e in columns),
        updates=updates, changed=changed))
    if spec.name == "grids":
        rehouse_buildings(session)
    if replace:
        raw.execute(q.SQL("""
            DELETE FROM {table} t WHERE {scope}
               AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.code = t.code)""").format(
            table=table, scope=_scope(spec, whole_layer)))


def rehouse_buildings(session: Session) -> int:
    """Move the buildings of the file's communities into the grid their inner point now lies
    in; how many moved."""
    result = driver(session).execute(q.SQL("""
        UPDATE building b SET grid_code = n.code
        FROM (SELECT b2.id, (SELECT g.code FROM grid g
                              WHERE ST_Contains(g.geom, ST_PointOnSurface(b2.geom))
                              ORDER BY g.code LIMIT 1) AS code
              FROM building b2
              WHERE left(b2.grid_code, 12) IN (SELECT DISTINCT left(code, 12) FROM import_stage)
             ) n
        WHERE b.id = n.id AND n.code IS NOT NULL AND n.code <> b.grid_code"""))
    return int(result.rowcount or 0)


def record(session: Session, **values: Any) -> int:
    """Record the import; its id."""
    row = DataImport(**values)
    session.add(row)
    session.flush()
    return int(row.id)


def check_deferred(session: Session) -> None:
    """Run the checks deferred to commit (the grid rules) now."""
    session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def drop_stage(session: Session) -> None:
    """Drop the staged features now (a commit would; an enclosing transaction may not end yet)."""
    session.execute(text("DROP TABLE IF EXISTS import_stage"))


def remembered_mapping(session: Session, layer: str, source: str) -> dict[str, str]:
    """The field mapping of the last import of ``layer`` from ``source`` (empty if none)."""
    found = session.execute(text(
        "SELECT mapping FROM data_import WHERE layer = :l AND source = :s AND source <> '' "
        "ORDER BY imported_at DESC, id DESC LIMIT 1"), {"l": layer, "s": source}).scalar()
    return dict(found) if isinstance(found, dict) else {}
