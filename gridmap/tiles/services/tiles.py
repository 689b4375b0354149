"""Vector tiles of the map's layers: found, versioned, cached, built.

A tile's ``ETag`` is made of what its bytes depend on: the tileset, the address, the counts of
changes to the tables it is drawn from (``data_version``), the coverage run, and for staff with
scoped properties who they are. So a conditional request is answered (304) after one small
query and no tile building, and a changed building changes the ETag of every tile of its
layers at once; the server's cache is keyed the same way, so it can never serve a stale tile.
Only public tiles are cached and shared; a tile with scoped properties is made for one person.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import FromClause

from gridmap.access import PUBLIC, Principal
from gridmap.coverage.services import readers
from gridmap.coverage.services.compute import NEAR_MISS_FACTOR
from gridmap.errors import NotFound
from gridmap.models import Building, Facility, FacilityType, StreetEdge
from gridmap.territory.services import layers
from gridmap.tiles import tms
from gridmap.tiles.repositories import tiles as repo
from gridmap.tiles.services.catalogue import (
    COVERAGE_ID,
    COVERAGE_PREFIX,
    SCOPED,
    TILESETS,
    Tileset,
    coverage_tileset,
)

TILE_FORMAT = 1
"""Bump when the code changes what a tile holds: every ETag and cache key changes with it."""
GZIP_LEVEL = 6
CACHE_BYTES = 64 * 1024 * 1024
"""Per worker process: about 8,000 tiles of the city's buildings at ~8 KB."""


@dataclass(frozen=True)
class TileRef:
    """A tile located and versioned, not yet built."""

    tileset: Tileset
    tile: tms.TileAddress
    etag: str
    private: bool
    """Not for shared caches: scoped properties, or coverage (for its readers only)."""
    statement: repo.Compiled
    params: dict[str, Any]
    cache_key: tuple[Any, ...] | None
    """None: not to be cached (scoped to one person). A coverage tile's key holds the reader's
    district: its content depends on nothing else."""


@dataclass
class TileCache:
    """Gzipped tiles by key, least recently used evicted past ``max_bytes``; thread-safe."""

    max_bytes: int = CACHE_BYTES
    _items: OrderedDict[tuple[Any, ...], bytes] = field(default_factory=OrderedDict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        """The tile under ``key``, marked recently used; None if absent."""
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        """Keep ``body`` under ``key``, evicting the least recently used past the limit."""
        with self._lock:
            if key in self._items or len(body) > self.max_bytes:
                return
            self._items[key] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)


def tileset(conn: psycopg.Connection, collection: str, principal: Principal = PUBLIC) -> Tileset:
    """The tileset called ``collection``; NotFound naming the offered ones if there is none.

    Coverage tilesets are for those who read coverage (401 for the public, 403 for other
    roles), as the coverage pages are.
    """
    found = TILESETS.get(collection)
    if found is not None:
        return found
    match = COVERAGE_ID.fullmatch(collection)
    if match is not None:
        for run in repo.current_runs(conn):
            if (run["type"], run["circle"]) == match.groups():
                readers.scope(principal)  # 401/403 unless they read coverage
                return _coverage(run)
    offered = ", ".join([*TILESETS, f"{COVERAGE_PREFIX}<type>-<circle>"])
    raise NotFound(f"没有瓦片集 {collection[:40]!r}；可选：{offered} (unknown collection)")


def tilesets(conn: psycopg.Connection, principal: Principal = PUBLIC) -> list[Tileset]:
    """Every tileset ``principal`` may read: the fixed ones, and for coverage readers one per
    coverage rule with a current run."""
    if not principal.has(*readers.READERS):
        return list(TILESETS.values())
    return [*TILESETS.values(), *(_coverage(run) for run in repo.current_runs(conn))]


def _coverage(run: dict[str, Any]) -> Tileset:
    return coverage_tileset(run["type"], run["circle"],
                            title_zh=f"覆盖：{run['type_zh']}（{run['circle_zh']}）",
                            title_en=f"Coverage: {run['type_en']} ({run['circle_en']})")


def varies_by_person(ts: Tileset) -> bool:
    """Whether tiles of ``ts`` may differ from one signed-in person to another."""
    return ts.layer == "coverage" or any(t.scoped for t in ts.tiers)


def is_scoped(ts: Tileset, principal: Principal) -> bool:
    """Whether ``principal`` gets more than the public in some tile of ``ts``."""
    return (any(t.scoped for t in ts.tiers) and ts.layer in TILESETS
            and layers.resident_counts_for(principal) is not None)


def locate_tile(conn: psycopg.Connection, collection: str, z: str, x: str, y: str,
                principal: Principal = PUBLIC) -> TileRef:
    """The tile ``collection``/z/x/y for ``principal``, versioned (its ETag) but not built.

    NotFound for an unknown collection or coordinates outside the tileset (text coordinates:
    anything but digits in range is a 404, as an unknown path is).
    """
    ts = tileset(conn, collection, principal)
    tile = tms.parse(z, x, y, minzoom=ts.minzoom, maxzoom=ts.maxzoom)
    tier = ts.tier(tile.z)
    scoped = tier.scoped and is_scoped(ts, principal)
    private = scoped
    params: dict[str, Any] = {"z": tile.z, "x": tile.x, "y": tile.y,
                              "tol": tms.simplify_tolerance_m(tile.z)}
    version: list[Any] = [repo.data_version(conn, ts.versions)]
    if ts.layer == "coverage":
        run = repo.current_run(conn, ts.facility_type, ts.circle, NEAR_MISS_FACTOR)
        if run is None:  # the rule's run went away since the tileset was found
            raise NotFound("该覆盖规则尚未计算 (no coverage run for this rule)")
        # A reader sees their district's buildings (the whole city: None), as on the page.
        area = readers.scope(principal) or ""
        params.update(run=run[0], max_m=run[1], near_m=run[2], area=area)
        version.extend((run[0], area))
        private = True
    if scoped:
        statement = repo.compile_statement(_statement(ts, tile.z, principal))
    else:
        statement = _public_statement("coverage" if ts.layer == "coverage" else ts.id, tile.z)
    scope = _scope_key(principal) if scoped else "shared"
    key = (TILE_FORMAT, ts.id, tile.z, tile.x, tile.y, *version)
    digest = hashlib.sha256(repr((*key, scope)).encode()).hexdigest()[:32]
    return TileRef(ts, tile, digest, private, statement, params, None if scoped else key)


def tile_body(conn: psycopg.Connection, ref: TileRef, cache_: TileCache | None) -> bytes:
    """The tile's MVT bytes, gzipped: from the cache when the same version was built before."""
    if cache_ is not None and ref.cache_key is not None:
        body = cache_.get(ref.cache_key)
        if body is not None:
            return body
    body = gzip.compress(repo.build_tile(conn, ref.statement, ref.params),
                         compresslevel=GZIP_LEVEL, mtime=0)
    if cache_ is not None and ref.cache_key is not None:
        cache_.put(ref.cache_key, body)
    return body


def _scope_key(principal: Principal) -> str:
    return repr((principal.role, principal.area_code, sorted(principal.grids)))


@cache
def _public_statement(key: str, z: int) -> repo.Compiled:
    """The compiled public statement of a tileset at zoom ``z`` (coverage tilesets share one:
    the run is a parameter)."""
    ts = TILESETS.get(key) or coverage_tileset("", "", title_zh="", title_en="")
    return repo.compile_statement(_statement(ts, z, None))


def _statement(ts: Tileset, z: int, scoped_for: Principal | None) -> Any:
    """The tile statement of ``ts`` at zoom ``z``; with ``scoped_for``, carrying the scoped
    properties that person may see."""
    tier = ts.tier(z)
    simplify = ts.simplify and z < ts.maxzoom
    if ts.layer == "coverage":
        joined, props = repo.coverage_source()
        return repo.mvt_statement("coverage", joined, Building.geom,
                                  {p: props[p] for p in tier.properties},
                                  feature_id=Building.id, where=[repo.coverage_filter()],
                                  simplify=simplify, geom_3857=Building.geom_3857)
    spec = layers.layer_spec(ts.layer)
    columns = layers.layer_columns(ts.layer, scoped_for or PUBLIC)
    names = [*tier.properties, *(SCOPED if scoped_for is not None else ())]
    chosen = {p: columns[p] for p in dict.fromkeys(names) if p in columns}
    source: FromClause = spec.model.__table__
    where: list[Any] = []
    if spec.model is Facility:
        source = source.join(FacilityType.__table__, FacilityType.code == Facility.type)
    if ts.arterials_below is not None and z < ts.arterials_below:
        where.append(StreetEdge.kind == "arterial")
    fid = spec.model.id if ts.feature_id else None  # type: ignore[union-attr]
    return repo.mvt_statement(ts.id, source, spec.model.geom, chosen, feature_id=fid,
                              where=where, simplify=simplify,
                              geom_3857=getattr(spec.model, "geom_3857", None))
