"""Mapbox Vector Tiles composed in SQLAlchemy Core and built by PostGIS (ST_AsMVTGeom →
ST_AsMVT), run as prepared statements on the read pool's psycopg connection.

A statement's tile address (``z``, ``x``, ``y``) and simplification tolerance (``tol``) are bound
parameters, so one compiled statement serves every tile of a tileset's zoom tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute

from gridmap.models import Building, Facility
from gridmap.tiles import tms

Expr = ColumnElement[Any] | QueryableAttribute[Any]
"""A SQL expression or a mapped attribute (``Model.column``)."""

_DIALECT = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


def _n(value: float) -> Any:
    """A numeric constant of our own written into the SQL (not a parameter: the planner sees
    it, and the statement reads as it runs)."""
    return literal_column(repr(value))


_WORLD = func.ST_MakeEnvelope(_n(-tms.HALF_WORLD_M), _n(-tms.HALF_WORLD_M),
                              _n(tms.HALF_WORLD_M), _n(tms.HALF_WORLD_M), _n(3857))
_COVERAGE_BUILDING = table("coverage_building", column("run_id", BigInteger),
                           column("building_id", BigInteger), column("distance_m", Float),
                           column("facility_id", BigInteger))


_TILE_PARAMS = ("z", "x", "y", "tol", "run", "max_m", "near_m", "area")
"""Parameters given per tile (the others are the statement's constants)."""


@dataclass(frozen=True)
class Compiled:
    """A statement as psycopg runs it: SQL text with ``%(name)s`` placeholders and the values
    of its constant parameters (the caller adds the tile's)."""

    sql: str
    params: dict[str, Any]


def _envelope(margin: float = 0.0) -> Any:
    z, x, y = (bindparam(n, type_=Integer) for n in ("z", "x", "y"))
    return func.ST_TileEnvelope(z, x, y, _WORLD, _n(margin))


def mvt_statement(name: str, source: FromClause, geom: Expr, columns: dict[str, Expr], *,
                  feature_id: Expr | None, where: Sequence[Any] = (),
                  simplify: bool, geom_3857: Expr | None = None) -> Select[Any]:
    """One MVT layer ``name`` of the rows of ``source`` whose ``geom`` (EPSG:4326) meets the
    tile, each with ``columns`` as properties and ``feature_id`` as the feature id.

    The rows are found with the geometry's index (``&&`` on the tile plus its buffer, turned into
    EPSG:4326: a Web Mercator rectangle is a lon/lat rectangle); their geometry in EPSG:3857
    (``geom_3857``, stored: migration 0014; else projected here) is simplified by half a pixel
    below the deepest zoom, clipped and quantised to the tile's grid.
    """
    projected: Any = geom_3857 if geom_3857 is not None else func.ST_Transform(geom, _n(3857))
    if simplify:
        projected = func.ST_SimplifyPreserveTopology(projected, bindparam("tol", type_=Float))
    mvt_geom = func.ST_AsMVTGeom(projected, _envelope(), _n(tms.EXTENT), _n(tms.BUFFER),
                                literal_column("true"))
    search = func.ST_Transform(_envelope(tms.BUFFER / tms.EXTENT), _n(4326))
    labels = [col.label(prop) for prop, col in columns.items()]
    if feature_id is not None:
        labels.append(feature_id.label("fid"))
    rows = (select(mvt_geom.label("geom"), *labels).select_from(source)
            .where(geom.op("&&")(search), *where).subquery("t"))
    mvt = func.ST_AsMVT(literal_column("t"), literal(name), _n(tms.EXTENT), literal("geom"),
                        *([literal("fid")] if feature_id is not None else []))
    return select(mvt).select_from(rows).where(rows.c.geom.is_not(None))


def coverage_source() -> tuple[FromClause, dict[str, Expr]]:
    """The buildings of the coverage run bound as ``run``, and their properties: walking
    distance and band (``covered`` within ``max_m``, ``near_miss`` within ``near_m``, else
    ``far``), with the nearest facility."""
    cb = _COVERAGE_BUILDING
    source = (cb.join(Building, Building.id == cb.c.building_id)
              .outerjoin(Facility, Facility.id == cb.c.facility_id))
    band = case((cb.c.distance_m <= bindparam("max_m", type_=Float), literal("covered")),
                (cb.c.distance_m <= bindparam("near_m", type_=Float), literal("near_miss")),
                else_=literal("far"))
    columns: dict[str, Expr] = {
        "band": band, "code": Building.code, "name": Building.name,
        "grid_code": Building.grid_code, "residents": Building.residents,
        "elderly": Building.aged_60_plus,
        "distance_m": cast(func.round(cast(cb.c.distance_m, Numeric()), 1), Float),
        "facility_code": Facility.code, "facility": Facility.name,
    }
    return source, columns


def coverage_filter() -> Any:
    """The row filter that picks the bound run's buildings in the bound ``area`` (a code
    prefix; '' for the whole city)."""
    return and_(_COVERAGE_BUILDING.c.run_id == bindparam("run", type_=BigInteger),
                func.starts_with(Building.grid_code, bindparam("area", type_=String)))


def compile_statement(stmt: Select[Any]) -> Compiled:
    """``stmt`` as psycopg SQL text; IN lists (a grid worker's grids) are spelled out."""
    # Spelling out an IN list needs every parameter's value: the tile's are placeholders here,
    # given their real values when the statement runs.
    compiled = stmt.compile(dialect=_DIALECT)
    expanded = compiled.construct_expanded_state(dict.fromkeys(_TILE_PARAMS, 0))
    params = {k: v for k, v in expanded.parameters.items() if k not in _TILE_PARAMS}
    return Compiled(expanded.statement, params)


def build_tile(conn: psycopg.Connection, statement: Compiled, params: dict[str, Any]) -> bytes:
    """The tile (MVT bytes, empty when no feature meets it) for the tile's ``params``."""
    row = conn.execute(statement.sql, {**statement.params, **params}, prepare=True).fetchone()
    return bytes(row[0]) if row is not None and row[0] is not None else b""


def data_version(conn: psycopg.Connection, layers: Sequence[str]) -> int:
    """The changes counted so far to ``layers`` (``data_version``, migrations 0010 and 0014):
    a sum of counts that only grow, so any change to any of them changes it."""
    row = conn.execute("SELECT coalesce(sum(version), 0)::bigint FROM data_version "
                       "WHERE layer = ANY(%(layers)s)", {"layers": list(layers)},
                       prepare=True).fetchone()
    return int(row[0]) if row is not None else 0


def current_run(conn: psycopg.Connection, facility_type: str, circle: str,
                near_miss_factor: float) -> tuple[int, float, float] | None:
    """The current coverage run of a rule: id, covered distance and near-miss distance (m)."""
    row = conn.execute(
        "SELECT id, max_distance_m, max_distance_m * coalesce((params->>'near_miss_factor')"
        "::float, %(f)s) FROM coverage_run WHERE facility_type = %(t)s AND circle = %(c)s "
        "AND current", {"t": facility_type, "c": circle, "f": near_miss_factor},
        prepare=True).fetchone()
    return None if row is None else (int(row[0]), float(row[1]), float(row[2]))


def current_runs(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every rule with a current coverage run: facility type and circle with their names."""
    rows = conn.execute(
        "SELECT r.facility_type, r.circle, ft.name_zh, ft.name_en, lc.name_zh, lc.name_en "
        "FROM coverage_run r JOIN facility_type ft ON ft.code = r.facility_type "
        "JOIN life_circle lc ON lc.code = r.circle WHERE r.current "
        "ORDER BY ft.sort_order, ft.code, lc.walk_minutes").fetchall()
    return [{"type": r[0], "circle": r[1], "type_zh": r[2], "type_en": r[3], "circle_zh": r[4],
             "circle_en": r[5]} for r in rows]


def extent(conn: psycopg.Connection) -> tuple[float, float, float, float] | None:
    """Bounding box of the loaded grids, else of the districts, else None."""
    row = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM coalesce("
        "(SELECT ST_Extent(geom) FROM grid), (SELECT ST_Extent(geom) FROM district)) e"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])
