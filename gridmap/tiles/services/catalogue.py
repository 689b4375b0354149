"""Which tilesets exist, their zooms, and the properties their tiles carry at each zoom.

Fewer properties at low zoom: a tile over a whole district at zoom 12 carries what the map draws
and colours by (a building's code, a street's kind), and the properties a popup shows arrive from
zoom 15. Per-building counts of vulnerable residents are never in a public tile; staff whose
territory holds a building get them from the detail tier on (``scoped``), in tiles made for them
alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COVERAGE_PREFIX = "coverage-"
COVERAGE_ID = re.compile(r"coverage-([a-z][a-z0-9_]{0,39})-([a-z0-9]{1,10})")
"""``coverage-<facility type>-<life circle>``: the latest run of that rule."""


@dataclass(frozen=True)
class Tier:
    """From ``minzoom`` on, tiles carry ``properties`` (and the scoped ones, if ``scoped``)."""

    minzoom: int
    properties: tuple[str, ...]
    scoped: bool = False


@dataclass(frozen=True)
class Tileset:
    """One collection served as vector tiles."""

    id: str
    layer: str
    """The layer registry's name (territory), or ``coverage``."""
    title_zh: str
    title_en: str
    minzoom: int
    maxzoom: int
    geometry: str
    tiers: tuple[Tier, ...]
    versions: tuple[str, ...]
    """``data_version`` layers whose changes change the tiles."""
    feature_id: bool
    """Whether features carry the row's integer id as their MVT id."""
    arterials_below: int | None = None
    """Streets: below this zoom, only arterials."""
    simplify: bool = False
    """Simplify below the deepest zoom (areas and grids: many vertices; a building's few
    survive any simplification, which would only cost time)."""
    facility_type: str = ""
    circle: str = ""

    def tier(self, z: int) -> Tier:
        """The tier that applies at zoom ``z``."""
        return [t for t in self.tiers if t.minzoom <= z][-1]

    @property
    def all_properties(self) -> tuple[str, ...]:
        """Every public property some tier carries."""
        return self.tiers[-1].properties


_BUILDING = ("code", "name", "address", "grid_code", "households", "residents", "aged_60_plus",
             "synthetic")
_GRID = ("code", "name", "community_code", "aged_80_plus", "elderly_living_alone", "synthetic")
_COVERAGE = ("band", "code", "name", "grid_code", "residents", "elderly", "distance_m",
             "facility_code", "facility")
SCOPED = ("aged_80_plus", "elderly_living_alone")
"""The properties scoped staff get with their territory's exact values."""

TILESETS: dict[str, Tileset] = {t.id: t for t in (
    Tileset("districts", "districts", "区", "Districts", 0, 16, "polygon",
            (Tier(0, ("code", "name")),), ("districts",), False, simplify=True),
    Tileset("subdistricts", "subdistricts", "街道", "Sub-districts", 8, 16, "polygon",
            (Tier(8, ("code", "name", "district_code")),), ("subdistricts",), False,
            simplify=True),
    Tileset("communities", "communities", "社区", "Communities", 10, 17, "polygon",
            (Tier(10, ("code", "name", "subdistrict_code")),), ("communities",), False,
            simplify=True),
    Tileset("grids", "grids", "网格", "Grids", 10, 17, "polygon",
            (Tier(10, ("code", "name")), Tier(14, _GRID, scoped=True)),
            ("grids", "buildings"), False, simplify=True),
    Tileset("buildings", "buildings", "楼院", "Buildings", 12, 17, "polygon",
            (Tier(12, ("code",)), Tier(15, _BUILDING, scoped=True)), ("buildings",), True),
    Tileset("streets", "streets", "街巷", "Streets", 12, 17, "line",
            (Tier(12, ("kind",)), Tier(15, ("kind", "name", "length_m"))), ("streets",), True,
            arterials_below=14),
    Tileset("facilities", "facilities", "设施", "Facilities", 12, 17, "point",
            (Tier(12, ("code", "type", "color")),
             Tier(15, ("code", "type", "color", "name", "capacity", "hours", "community_code",
                       "synthetic"))),
            ("facilities", "facility_types"), True),
)}
"""The fixed tilesets; coverage tilesets (one per rule with a current run) come from
:func:`coverage_tileset`."""


def coverage_tileset(facility_type: str, circle: str, *, title_zh: str,
                     title_en: str) -> Tileset:
    """The tileset of the latest coverage run of a rule: buildings with walking distance and
    band (band alone below zoom 15)."""
    return Tileset(f"{COVERAGE_PREFIX}{facility_type}-{circle}", "coverage", title_zh, title_en,
                   12, 17, "polygon", (Tier(12, ("band",)), Tier(15, _COVERAGE)),
                   ("buildings",), True, facility_type=facility_type, circle=circle)
