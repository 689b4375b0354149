"""The map's layers as streamed GeoJSON: a layer by name, its filters checked, its features
streamed from the database through the one FeatureCollection writer."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from gridmap import viewport, writers
from gridmap.access import CASE_ROLES, PUBLIC, Principal, Role
from gridmap.codes import AreaFilter
from gridmap.errors import InvalidInput, NotFound
from gridmap.territory.repositories import layers
from gridmap.territory.repositories import lookup as territory
from gridmap.territory.repositories.layers import Condition
from gridmap.territory.repositories.layers import Expr as Expr
from gridmap.territory.repositories.layers import LayerSpec as LayerSpec  # re-exported

FACILITY_TYPE_MAX_LENGTH = 40
NO_AREA = AreaFilter()
RESIDENT_COUNT_READERS = frozenset(CASE_ROLES | {Role.DATA_OFFICER, Role.ADMIN})
"""Roles that see counts of vulnerable residents per building inside their own territory (a
grid worker: their grids). Planners plan from grid totals: they keep the public view."""


def resident_counts_for(principal: Principal) -> Principal | None:
    """``principal`` if the layers may show them per-building counts of vulnerable residents
    (in their territory only), else None: the public view."""
    return principal if principal.has(*RESIDENT_COUNT_READERS) else None


def layer_spec(name: str) -> LayerSpec:
    """The layer called ``name``; NotFound listing the layers when there is none."""
    spec = layers.LAYERS.get(name)
    if spec is None:
        raise NotFound(f"没有图层 {name[:40]!r}；可选：{', '.join(layers.LAYERS)} (unknown layer)")
    return spec


def layer_collection(factory: sessionmaker[Session], name: str, *, bbox: viewport.BBox | None,
                     zoom: int | None, area: AreaFilter, facility_type: str | None, lang: str,
                     cap: int | None, principal: Principal = PUBLIC) -> Iterator[str]:
    """Layer ``name`` for a map view as a FeatureCollection, streamed in text chunks.

    Everything is checked before the first chunk (so a bad request is a clean 4xx, never a
    broken stream); with ``cap``, at most ``cap`` features and ``"truncated": true`` past it.
    The features are read in a session of their own, held while the chunks are consumed.
    Staff who may (:func:`resident_counts_for`) also get the per-building counts of vulnerable
    residents (and exact grid totals) where their territory covers the building or grid.
    """
    spec = layer_spec(name)
    if facility_type:
        with factory() as session:
            _check_facility_type(session, facility_type)
    stmt = layers.layer_query(spec, bbox=bbox, zoom=zoom, area=area, facility_type=facility_type,
                              lang=lang, limit=cap + 1 if cap is not None else None,
                              scoped_for=resident_counts_for(principal))
    return _stream(factory, stmt, cap)


def data_versions(factory: sessionmaker[Session], name: str) -> list[tuple[str, str, int]]:
    """The change counts of the data layer ``name`` is read from (for its ETag)."""
    layer_spec(name)
    with factory() as session:
        return layers.data_versions(session, name)


def is_scoped(name: str, principal: Principal) -> bool:
    """Whether layer ``name`` answers ``principal`` with more than the public sees (so the
    answer must not be cached for anyone else)."""
    return layer_spec(name).scoped is not None and resident_counts_for(principal) is not None


def layer_columns(name: str, principal: Principal = PUBLIC) -> dict[str, Expr]:
    """Layer ``name``'s properties as SQL expressions by name (facility type names in Chinese),
    with per-building counts of vulnerable residents (and exact grid totals) for the rows in
    ``principal``'s territory when :func:`resident_counts_for` lets them see those."""
    spec = layer_spec(name)
    columns = dict(spec.properties("zh"))
    scoped_for = resident_counts_for(principal)
    if scoped_for is not None and spec.scoped is not None and spec.grid_column is not None:
        columns.update(spec.scoped(layers.covers(scoped_for, spec.grid_column)))
    return columns


def _stream(factory: sessionmaker[Session], stmt: Select[str], cap: int | None) -> Iterator[str]:
    with factory() as session:
        yield from writers.feature_collection(layers.stream_texts(session, stmt), cap=cap)


def _check_facility_type(session: Session, raw: str) -> None:
    if not raw.replace("_", "").isalnum() or len(raw) > FACILITY_TYPE_MAX_LENGTH:
        raise InvalidInput(f"设施类型无效：{raw[:40]!r} (invalid facility type)")
    known = [t["code"] for t in territory.facility_types(session, lang="zh")]
    if raw not in known:
        raise InvalidInput(f"未知设施类型 {raw[:40]!r}；可选：{', '.join(known)} "
                           "(unknown facility type)")


def catalogue() -> dict[str, LayerSpec]:
    """Every layer of the registry by name (OGC API Features serves each as a collection)."""
    return dict(layers.LAYERS)


def territory_of(principal: Principal, grid_code: Expr) -> Condition:
    """SQL: whether a row of this grid code lies in the territory whose per-building counts of
    vulnerable residents ``principal`` may read (false for everyone else)."""
    return layers.covered_by(resident_counts_for(principal), grid_code)


def facility_type_codes(factory: sessionmaker[Session]) -> list[str]:
    """The facility types' codes in display order."""
    with factory() as session:
        return [t["code"] for t in territory.facility_types(session, lang="zh")]
