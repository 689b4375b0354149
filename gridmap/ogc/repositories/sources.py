"""The FROM clauses and columns of the collections that are not map layers: cases (a public
view, full fields for the staff whose scope holds them) and stored coverage results.

The public view of a case is Open311's (:mod:`gridmap.cases.privacy`): category, state, the
handling department, the grid, times, the street without its house number and a location
snapped to the public grid; never the resident's text, name, phone or photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    case,
    cast,
    column,
    func,
    literal,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from gridmap.cases.privacy import PUBLIC_GRID_DEG
from gridmap.models import (
    Building,
    Case,
    CaseCategory,
    Community,
    Department,
    District,
    Facility,
    FacilityType,
    Grid,
    Subdistrict,
)
from gridmap.ogc.repositories.catalogue import Expr

_TRAILING = " \t,，、.。;；:：#＃-－—(（"
# The house number starts at a digit, or at Chinese numerals before a number word (as
# gridmap.cases.privacy._HOUSE_NUMBER says; a DB test holds the two equal).
_HOUSE_NUMBER = ("^(.*?)(?:[0-9０-９]"
                 "|[一二三四五六七八九十百千零〇两]+\\s*(?:号|栋|幢|座|单元|室|楼|层|弄|排))")

coverage_run = table("coverage_run", column("id"), column("facility_type", String()),
                     column("circle", String()), column("max_distance_m", Float()),
                     column("params", JSONB()), column("current"))
coverage_building = table("coverage_building", column("run_id"), column("building_id"),
                          column("distance_m", Float()), column("facility_id"))
coverage_area = table("coverage_area", column("run_id"), column("level", String()),
                      column("code", String()), column("buildings"), column("residents"),
                      column("residents_covered"), column("elderly"), column("elderly_covered"))


FACILITY_SOURCE = Facility.__table__.join(FacilityType.__table__, FacilityType.code == Facility.type)
"""Facilities with their type (the layer's ``type_name`` and ``color`` come from it)."""


def facility_type_is(code: str) -> ColumnElement[bool]:
    """Facilities of one type."""
    return Facility.type == code


def street_only(address: Any) -> Any:
    """SQL of :func:`gridmap.cases.privacy.street_only`: the address up to its house number."""
    kept = func.coalesce(func.substring(address, _HOUSE_NUMBER), address)
    return func.btrim(func.rtrim(func.btrim(kept), _TRAILING))


def public_point(geom: Any) -> Any:
    """SQL of :func:`gridmap.cases.privacy.public_point`: snapped to the public grid."""
    return func.ST_SnapToGrid(geom, PUBLIC_GRID_DEG)


CASE_SOURCE = (Case.__table__.join(CaseCategory, CaseCategory.code == Case.category)
               .outerjoin(Department, Department.code == Case.owner_department))


def case_columns(lang: str, inside: ColumnElement[bool] | None) -> list[tuple[str, Expr]]:
    """A case's properties: the public's; with ``inside`` (the principal's readable cases as
    SQL), the full fields on the rows it holds and the public's elsewhere."""
    en = lang == "en"
    public: list[tuple[str, Expr]] = [
        ("category", Case.category),
        ("service_name", CaseCategory.name_en if en else CaseCategory.name_zh),
        ("state", Case.state),
        ("department", Department.name_en if en else Department.name_zh),
        ("grid_code", Case.grid_code), ("community_code", Case.community_code),
        ("created_at", Case.created_at), ("updated_at", Case.updated_at),
        ("resolve_by", Case.resolve_by), ("address", street_only(Case.address)),
    ]
    if inside is None:
        return public
    full: list[tuple[str, Expr]] = [
        ("address", case((inside, Case.address), else_=street_only(Case.address))),
        ("description", case((inside, Case.description), else_=None)),
        ("building_code", case((inside, Case.building_code), else_=None)),
        ("reporter_name", case((inside, Case.reporter_name), else_=None)),
        ("channel", case((inside, Case.channel), else_=None)),
        ("owner_department", case((inside, Case.owner_department), else_=None)),
        ("rating", case((inside, Case.rating), else_=None)),
    ]
    return [*dict([*public, *full]).items()]


def case_geometry(inside: ColumnElement[bool] | None) -> Any:
    """Exact where ``inside`` holds (staff), snapped to the public grid elsewhere."""
    if inside is None:
        return public_point(Case.geom)
    return case((inside, Case.geom), else_=public_point(Case.geom))


def current_runs(session: Session) -> list[dict[str, Any]]:
    """Every current coverage run: id, facility type, circle."""
    rows = session.execute(select(coverage_run.c.id, coverage_run.c.facility_type,
                                  coverage_run.c.circle).where(coverage_run.c.current)
                           .order_by(coverage_run.c.facility_type, coverage_run.c.circle))
    return [dict(r) for r in rows.mappings()]


COVERAGE_BUILDING_SOURCE = (
    coverage_building.join(Building.__table__, Building.id == coverage_building.c.building_id)
    .join(coverage_run, coverage_run.c.id == coverage_building.c.run_id)
    .outerjoin(Facility.__table__, Facility.id == coverage_building.c.facility_id))


def coverage_building_columns(near_miss_factor: float) -> list[tuple[str, Expr]]:
    """A building's walking distance to the nearest facility, band and that facility."""
    limit = coverage_run.c.max_distance_m
    factor = func.coalesce(cast(coverage_run.c.params["near_miss_factor"].astext, Float()),
                           near_miss_factor)
    band = case((coverage_building.c.distance_m <= limit, literal("covered")),
                (coverage_building.c.distance_m <= limit * factor, literal("near_miss")),
                else_=literal("far"))
    return [("code", Building.code), ("name", Building.name), ("grid_code", Building.grid_code),
            ("residents", Building.residents), ("elderly", Building.aged_60_plus),
            ("distance_m", cast(func.round(cast(coverage_building.c.distance_m, Numeric()), 1), Float())),
            ("band", cast(band, Text())), ("facility_code", Facility.code),
            ("facility_name", Facility.name)]


_LEVELS = (("grid", Grid), ("community", Community), ("subdistrict", Subdistrict),
           ("district", District))


def _area_source() -> Any:
    source: Any = coverage_area
    for level, model in _LEVELS:
        source = source.outerjoin(model.__table__, (coverage_area.c.level == level)
                                  & (model.code == coverage_area.c.code))
    return source


COVERAGE_AREA_SOURCE = _area_source()
COVERAGE_AREA_GEOMETRY = func.coalesce(*[func.ST_Multi(model.geom) for _, model in _LEVELS])


def coverage_area_columns() -> list[tuple[str, Expr]]:
    """An area's level, code, name, totals and coverage rates (residents and elderly)."""
    a = coverage_area.c
    return [("level", a.level), ("code", a.code),
            ("name", func.coalesce(*[model.name for _, model in _LEVELS])),
            ("buildings", cast(a.buildings, Integer())), ("residents", cast(a.residents, Integer())),
            ("residents_covered", cast(a.residents_covered, Integer())),
            ("elderly", cast(a.elderly, Integer())), ("elderly_covered", cast(a.elderly_covered, Integer())),
            ("residents_rate", cast(a.residents_covered, Float()) / func.nullif(a.residents, 0)),
            ("elderly_rate", cast(a.elderly_covered, Float()) / func.nullif(a.elderly, 0))]


def coverage_building_conditions(run_id: int, area: str | None) -> Sequence[ColumnElement[bool]]:
    """Rows of one run, inside the reader's area (a code prefix; None: the city)."""
    found = [coverage_building.c.run_id == run_id]
    if area:
        found.append(Building.grid_code.startswith(area, autoescape=True))
    return found


def coverage_area_conditions(run_id: int, area: str | None) -> Sequence[ColumnElement[bool]]:
    """Areas of one run, inside the reader's area."""
    found = [coverage_area.c.run_id == run_id]
    if area:
        found.append(coverage_area.c.code.startswith(area, autoescape=True))
    return found

