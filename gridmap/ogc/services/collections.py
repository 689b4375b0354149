"""The collections a principal may read, declared once from the layer registry, cases and
coverage.

- territory layers (districts … buildings, streets, facilities) come from
  :func:`gridmap.territory.services.layers.catalogue`, with its scoped properties: the public
  gets grid totals of vulnerable residents (small counts hidden), staff get per-building counts
  inside their territory only;
- ``facilities-<type>``: one collection per facility type;
- ``cases``: the public view for everyone, full fields on the cases the principal's case scope
  holds;
- ``coverage-<type>-<circle>-buildings`` / ``-areas``: the current coverage run of each rule,
  for coverage readers only, inside the district they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.cases.services import queries as case_queries
from gridmap.coverage.services import readers
from gridmap.coverage.services.compute import NEAR_MISS_FACTOR
from gridmap.errors import NotFound
from gridmap.models import Building, Case, Facility, Grid
from gridmap.ogc.repositories import sources
from gridmap.ogc.repositories.catalogue import Collection, Condition, Expr
from gridmap.territory.services import layers as territory_layers

CASES, COVERAGE = "cases", "coverage-"
_TIME: dict[str, Expr] = {"grids": Grid.valid_from}


def _layer_columns(spec: territory_layers.LayerSpec, lang: str,
                   principal: Principal) -> list[tuple[str, Expr]]:
    columns = dict(spec.properties(lang))
    if (spec.scoped is not None and spec.grid_column is not None
            and territory_layers.is_scoped(spec.name, principal)):
        columns.update(spec.scoped(territory_layers.territory_of(principal, spec.grid_column)))
    return list(columns.items())


def _layer(spec: territory_layers.LayerSpec, *, facility_type: str | None = None) -> Collection:
    source: Any = spec.model
    if spec.model is Facility:
        source = sources.FACILITY_SOURCE
    conditions: Sequence[Condition] = (
        (sources.facility_type_is(facility_type),) if facility_type else ())
    name = f"{spec.name}-{facility_type}" if facility_type else spec.name
    suffix = f" · {facility_type}" if facility_type else ""
    return Collection(
        id=name, title_zh=spec.title_zh + suffix, title_en=spec.title_en + suffix,
        description=f"{spec.title_zh} ({spec.title_en}){suffix}", source=source,
        id_column=spec.id_column, geometry_type=spec.geometry,
        columns=partial(_layer_columns, spec), geometry=lambda p: spec.model.geom,
        conditions=lambda p: conditions, time=_TIME.get(spec.name),
        personal=lambda p: territory_layers.is_scoped(spec.name, p))


def _case_inside(principal: Principal) -> Condition | None:
    return case_queries.readable_condition(principal) if _reads_cases(principal) else None


def _reads_cases(principal: Principal) -> bool:
    return principal.has(*case_queries.READERS)


CASE_COLLECTION = Collection(
    id=CASES, title_zh="案件（公开视图）", title_en="Cases (public view)",
    description="案件的公开视图：类别、状态、部门、网格、时间、街道与约 50 米精度的位置；"
                "辖区内的工作人员另见完整字段 (the public view of cases, as Open311 shows it; "
                "staff see full fields of the cases in their scope)",
    source=sources.CASE_SOURCE, id_column=Case.id, geometry_type="point",
    columns=lambda lang, p: sources.case_columns(lang, _case_inside(p)),
    geometry=lambda p: sources.case_geometry(_case_inside(p)), time=Case.created_at,
    personal=_reads_cases)


def _coverage(run: dict[str, Any], part: str) -> Collection:
    ident = f"{COVERAGE}{run['facility_type']}-{run['circle']}-{part}"
    run_id = int(run["id"])
    title = f"{run['facility_type']} {run['circle']}"
    if part == "buildings":
        return Collection(
            id=ident, title_zh=f"覆盖分析 {title} · 楼院", title_en=f"Coverage {title} · buildings",
            description="每栋楼院到最近设施的步行距离与分段 (walking distance and band per building)",
            source=sources.COVERAGE_BUILDING_SOURCE, id_column=Building.code,
            geometry_type="polygon", columns=lambda lang, p: sources.coverage_building_columns(
                NEAR_MISS_FACTOR),
            geometry=lambda p: Building.geom,
            conditions=lambda p: sources.coverage_building_conditions(run_id, readers.scope(p)),
            personal=lambda p: True)
    return Collection(
        id=ident, title_zh=f"覆盖分析 {title} · 区域", title_en=f"Coverage {title} · areas",
        description="网格、社区、街道、区的覆盖率 (coverage rates per grid, community, "
                    "sub-district and district; filter on level)",
        source=sources.COVERAGE_AREA_SOURCE, id_column=sources.coverage_area.c.code,
        geometry_type="polygon", columns=lambda lang, p: sources.coverage_area_columns(),
        geometry=lambda p: sources.COVERAGE_AREA_GEOMETRY,
        conditions=lambda p: sources.coverage_area_conditions(run_id, readers.scope(p)),
        personal=lambda p: True)


def collections(factory: sessionmaker[Session], principal: Principal) -> list[Collection]:
    """Every collection ``principal`` may read, in a stable order."""
    specs = territory_layers.catalogue()
    found = [_layer(spec) for spec in specs.values()]
    found += [_layer(specs["facilities"], facility_type=t)
              for t in territory_layers.facility_type_codes(factory)]
    found.append(CASE_COLLECTION)
    if principal.has(*readers.READERS):
        with factory() as session:
            runs = sources.current_runs(session)
        found += [_coverage(run, part) for run in runs for part in ("buildings", "areas")]
    return found


def collection(factory: sessionmaker[Session], principal: Principal, ident: str) -> Collection:
    """The collection called ``ident``: 404 if there is none; for coverage, 401/403 for a
    principal who does not read coverage."""
    if ident.startswith(COVERAGE):
        readers.scope(principal)
    specs = territory_layers.catalogue()
    if ident in specs:  # the common case, answered without a query
        return _layer(specs[ident])
    if ident == CASES:
        return CASE_COLLECTION
    for found in collections(factory, principal):
        if found.id == ident:
            return found
    raise NotFound(f"没有集合 {ident[:40]!r} (unknown collection; see /ogc/collections)")
