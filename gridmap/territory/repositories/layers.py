"""GeoJSON layers composed in SQL and streamed row by row (no layer is ever held in Python).

Each layer is declared once in :data:`LAYERS`: its table, the properties it exposes, the zoom from
which the map shows it and the column that code-prefix area filters apply to. PostgreSQL builds
each feature's JSON text; Python only concatenates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    ScalarSelect,
    Select,
    String,
    case,
    cast,
    column,
    false,
    func,
    literal,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import QueryableAttribute, Session

from gridmap import viewport
from gridmap.access import Principal, Role
from gridmap.codes import AreaFilter, Level
from gridmap.db import stream_texts as stream_texts  # re-exported: the layer service streams here
from gridmap.models import (
    Building,
    Community,
    District,
    Facility,
    FacilityType,
    Grid,
    StreetEdge,
    Subdistrict,
)

# A SQL expression or a mapped attribute (``Model.column``): either can go into a SELECT.
Expr = ColumnElement[Any] | QueryableAttribute[Any]
Props = Callable[[str], list[tuple[str, Expr]]]
LayerModel = (
    type[District] | type[Subdistrict] | type[Community] | type[Grid] | type[Building]
    | type[StreetEdge] | type[Facility]
)


# Given "this row lies in the principal's territory" as SQL, the properties that replace or join
# the public ones for that principal.
ScopedProps = Callable[[ColumnElement[bool]], list[tuple[str, Expr]]]


@dataclass(frozen=True)
class LayerSpec:
    """How one layer is read: model, id column, properties, display zoom, area-filter column;
    and for layers with residents' counts, the scoped properties and the grid-code column that
    decides whose territory a row lies in."""

    name: str
    title_zh: str
    title_en: str
    model: LayerModel
    id_column: Expr
    properties: Props
    minzoom: int
    geometry: str
    area_column: Expr | None
    scoped: ScopedProps | None = None
    grid_column: Expr | None = None


def _territory_props(*cols: tuple[str, Expr]) -> Props:
    return lambda lang: list(cols)


def _facility_props(lang: str) -> list[tuple[str, Expr]]:
    return [
        ("code", Facility.code), ("type", Facility.type),
        ("type_name", FacilityType.name_en if lang == "en" else FacilityType.name_zh),
        ("name", Facility.name), ("capacity", Facility.capacity), ("hours", Facility.hours),
        ("community_code", Facility.community_code), ("color", FacilityType.color),
        ("synthetic", Facility.synthetic),
    ]


SMALL_COUNT = 5
"""Counts of vulnerable residents below this are not published: a small number in a known place
can point at one household (statistical disclosure control, as census tables do)."""


VULNERABLE = (("aged_80_plus", Building.aged_80_plus),
              ("elderly_living_alone", Building.elderly_living_alone))
"""Counts of vulnerable residents: per building only for staff whose territory holds it."""


def _grid_sum(column: QueryableAttribute[int]) -> ScalarSelect[int]:
    return (select(func.coalesce(func.sum(column), 0)).where(Building.grid_code == Grid.code)
            .correlate(Grid).scalar_subquery())


def _grid_total(column: QueryableAttribute[int]) -> Expr:
    """A grid's total of a vulnerable-resident count over its buildings; null when under 5.

    Per-building counts of elderly people living alone or aged 80+ are personal data: the public
    layers carry only these grid totals. A hidden count is null, not the text "<5", so the
    property keeps one numeric type for GIS tools (pages show null as "<5").
    """
    total = _grid_sum(column)
    return case((total >= SMALL_COUNT, total), else_=None)


def _scoped_grid_totals(inside: ColumnElement[bool]) -> list[tuple[str, Expr]]:
    """Grid totals for staff: exact in their own grids (they see each building's count there),
    small ones hidden elsewhere as for the public."""
    return [(name, case((inside, _grid_sum(col)), else_=_grid_total(col)))
            for name, col in VULNERABLE]


def _scoped_building_counts(inside: ColumnElement[bool]) -> list[tuple[str, Expr]]:
    """Per-building counts for staff: in buildings of their territory; null elsewhere."""
    return [(name, case((inside, col), else_=None)) for name, col in VULNERABLE]


def covers(principal: Principal, grid_code: Expr) -> ColumnElement[bool]:
    """SQL for :meth:`Principal.covers` of a grid-code column: whether the row lies in the
    principal's territory (grid workers and departments: their grids; territorial roles: their
    area, or everything without one; the public: nothing)."""
    if principal.role is None:
        return false()
    if principal.role in (Role.GRID_WORKER, Role.DEPARTMENT_STAFF):
        return grid_code.in_(sorted(principal.grids)) if principal.grids else false()
    if principal.area_code is None:
        return true()
    return grid_code.startswith(principal.area_code, autoescape=True)


Condition = ColumnElement[bool]
"""A WHERE condition in SQL."""


def covered_by(reader: Principal | None, grid_code: Expr) -> Condition:
    """:func:`covers` for a staff member who may read residents' counts; false for None (the
    public view)."""
    return covers(reader, grid_code) if reader is not None else false()


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec("districts", "区", "Districts", District, District.code,
                  _territory_props(("code", District.code), ("name", District.name)),
                  0, "polygon", District.code),
        LayerSpec("subdistricts", "街道", "Sub-districts", Subdistrict, Subdistrict.code,
                  _territory_props(("code", Subdistrict.code), ("name", Subdistrict.name),
                                   ("district_code", Subdistrict.district_code)),
                  11, "polygon", Subdistrict.code),
        LayerSpec("communities", "社区", "Communities", Community, Community.code,
                  _territory_props(("code", Community.code), ("name", Community.name),
                                   ("subdistrict_code", Community.subdistrict_code)),
                  12, "polygon", Community.code),
        LayerSpec("grids", "网格", "Grids", Grid, Grid.code,
                  _territory_props(("code", Grid.code), ("name", Grid.name),
                                   ("community_code", Grid.community_code),
                                   ("aged_80_plus", _grid_total(Building.aged_80_plus)),
                                   ("elderly_living_alone",
                                    _grid_total(Building.elderly_living_alone)),
                                   ("synthetic", Grid.synthetic)),
                  15, "polygon", Grid.code, scoped=_scoped_grid_totals, grid_column=Grid.code),
        LayerSpec("buildings", "楼院", "Buildings", Building, Building.code,
                  _territory_props(("code", Building.code), ("name", Building.name),
                                   ("address", Building.address),
                                   ("grid_code", Building.grid_code),
                                   ("households", Building.households),
                                   ("residents", Building.residents),
                                   ("aged_60_plus", Building.aged_60_plus),
                                   ("synthetic", Building.synthetic)),
                  16, "polygon", Building.grid_code, scoped=_scoped_building_counts,
                  grid_column=Building.grid_code),
        LayerSpec("streets", "街巷", "Streets", StreetEdge, cast(StreetEdge.id, String),
                  _territory_props(("kind", StreetEdge.kind), ("name", StreetEdge.name),
                                   ("length_m", func.round(cast(StreetEdge.length_m, Numeric()), 1))),
                  15, "line", None),
        LayerSpec("facilities", "设施", "Facilities", Facility, Facility.code, _facility_props,
                  13, "point", Facility.community_code),
    )
}




def layer_query(
    spec: LayerSpec,
    *,
    bbox: viewport.BBox | None,
    zoom: int | None,
    area: AreaFilter,
    facility_type: str | None,
    lang: str,
    limit: int | None,
    scoped_for: Principal | None = None,
) -> Select[str]:
    """A SELECT yielding one GeoJSON Feature (as JSON text) per row, ordered by id.

    ``scoped_for``: a staff member allowed to see residents' counts in their own territory;
    layers that hold such counts then carry them for the rows that territory covers (decided in
    SQL, row by row). None: the public view.
    """
    geom: Expr = spec.model.geom
    if zoom is not None and bbox is not None and spec.geometry == "polygon":
        # For display, a district or community much larger than the view is cut to the view
        # plus a margin as wide as the view (beyond what the map pre-renders when panning):
        # at street zoom this sends a few KB instead of a whole district outline.
        minx, miny, maxx, maxy = bbox
        dx, dy = maxx - minx, maxy - miny
        geom = func.ST_ClipByBox2D(geom, func.ST_MakeEnvelope(
            minx - dx, miny - dy, maxx + dx, maxy + dy, 4326))
    if zoom is not None and zoom < 17 and spec.geometry != "point":
        geom = func.ST_SimplifyPreserveTopology(geom, viewport.tolerance_deg(zoom))
    columns = dict(spec.properties(lang))
    if scoped_for is not None and spec.scoped is not None and spec.grid_column is not None:
        columns.update(spec.scoped(covers(scoped_for, spec.grid_column)))
    props = func.json_build_object(*[x for name, col in columns.items()
                                     for x in (literal(name), col)])
    feature = func.json_build_object(
        literal("type"), literal("Feature"),
        literal("id"), spec.id_column,
        literal("geometry"), cast(func.ST_AsGeoJSON(geom, viewport.decimals(zoom)), JSON()),
        literal("properties"), props,
    )
    stmt = select(cast(feature, String)).select_from(spec.model)
    if spec.model is Facility:
        stmt = stmt.join(FacilityType, FacilityType.code == Facility.type)
        if facility_type:
            stmt = stmt.where(Facility.type == facility_type)
    if bbox is not None:
        stmt = stmt.where(spec.model.geom.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    prefix, level = area.prefix(), area.level()
    if prefix is not None and level is not None:
        stmt = _area_filter(stmt, spec, prefix, level)
    stmt = stmt.order_by(spec.id_column)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def _area_filter(stmt: Select[str], spec: LayerSpec, prefix: str, level: Level) -> Select[str]:
    if spec.area_column is not None:
        # Codes nest (grid = community + 3 digits …), so an area is a code prefix. A coarser
        # layer than the filter (e.g. districts filtered by a community) keeps its ancestor.
        return stmt.where(
            (spec.area_column.startswith(prefix, autoescape=True))
            | (literal(prefix).startswith(spec.area_column))
        )
    # Streets carry no code: keep those crossing the area's outline.
    return stmt.where(func.ST_Intersects(spec.model.geom, _area_outline(level, prefix)))


# The table that holds the outline of each level an area filter may name (codes.AREA_LEVELS).
_AREA_MODELS: dict[Level, type[District] | type[Subdistrict] | type[Community]] = {
    Level.DISTRICT: District, Level.SUBDISTRICT: Subdistrict, Level.COMMUNITY: Community}


def _area_outline(level: Level, code: str) -> ScalarSelect[object]:
    model = _AREA_MODELS[level]
    return select(model.geom).where(model.code == code).scalar_subquery()


INPUTS: dict[str, tuple[str, ...]] = {
    "districts": ("districts",), "subdistricts": ("subdistricts",),
    "communities": ("communities",), "grids": ("grids", "buildings"),
    "buildings": ("buildings",),
    # Streets carry no code: an area filter cuts them by the area's outline.
    "streets": ("streets", "districts", "subdistricts", "communities"),
    "facilities": ("facilities", "facility_types"),
}
"""The ``data_version`` layers (migrations 0010, 0015) each map layer is read from: the grids
carry their buildings' totals, the facilities their type's name and colour."""
_DATA_VERSION = table("data_version", column("layer"), column("key"), column("version"))


def data_versions(session: Session, name: str) -> list[tuple[str, str, int]]:
    """The change counts of what layer ``name`` is read from, in a stable order."""
    rows = session.execute(
        select(_DATA_VERSION.c.layer, _DATA_VERSION.c.key, _DATA_VERSION.c.version)
        .where(_DATA_VERSION.c.layer.in_(INPUTS[name]))
        .order_by(_DATA_VERSION.c.layer, _DATA_VERSION.c.key))
    return [(layer, key, int(version)) for layer, key, version in rows]
