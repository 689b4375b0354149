"""What a coverage report holds: plain data, gathered once, drawn as a PDF or an HTML map."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BAND_COLOURS = {"covered": "#2e9d4f", "near_miss": "#f0a202", "far": "#d0312d"}
"""Building colours per coverage band (the coverage page's, see static/js/coverage.js)."""
BAND_NAMES = {"covered": "步行可达", "near_miss": "略超距离", "far": "未覆盖"}
"""Legend names per band (Chinese first: the report is for Chinese planners)."""
FACILITY_COLOUR = "#1f4e9c"
GAP_OUTLINE = "#d0312d"


@dataclass(frozen=True)
class Totals:
    """Buildings, residents and elderly of the report's area, and how many are covered."""

    buildings: int
    buildings_covered: int
    residents: int
    residents_covered: int
    elderly: int
    elderly_covered: int

    @property
    def residents_rate(self) -> float | None:
        """Share of residents within the rule's distance (None without residents)."""
        return self.residents_covered / self.residents if self.residents else None

    @property
    def elderly_rate(self) -> float | None:
        """Share of residents aged 60+ within the rule's distance (None without any)."""
        return self.elderly_covered / self.elderly if self.elderly else None


@dataclass(frozen=True)
class CoverageReport:
    """One coverage report: an area (a code; '' = the whole city) and a rule.

    ``communities`` and ``buildings`` are GeoJSON Feature dicts in WGS84; community properties
    carry ``code``, ``name`` and ``status`` ('covered', 'gap', …, from the GB 50180 audit);
    building properties carry ``band`` (a key of :data:`BAND_COLOURS`).
    """

    area_code: str
    area_name: str
    facility_type: str
    facility_type_name: str
    circle: str
    circle_name: str
    max_distance_m: float
    computed_at: str
    generated_at: str
    generated_by: str
    totals: Totals
    communities: list[dict[str, Any]]
    buildings: list[dict[str, Any]]
    facilities: list[dict[str, Any]]
    worst: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The report's title (Chinese)."""
        return f"{self.area_name} · {self.facility_type_name}覆盖报告（{self.circle_name}）"

    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the communities, buildings and facilities."""
        xs: list[float] = []
        ys: list[float] = []
        for feature in [*self.communities, *self.buildings]:
            for x, y in _coords(feature["geometry"]["coordinates"]):
                xs.append(x)
                ys.append(y)
        for f in self.facilities:
            xs.append(float(f["lon"]))
            ys.append(float(f["lat"]))
        if not xs:
            raise ValueError("a report with nothing to draw has no bounds")
        return min(xs), min(ys), max(xs), max(ys)


def _coords(coords: Any) -> list[tuple[float, float]]:
    """Every (x, y) of a GeoJSON coordinates array of any depth."""
    if coords and isinstance(coords[0], (int, float)):
        return [(float(coords[0]), float(coords[1]))]
    out: list[tuple[float, float]] = []
    for part in coords:
        out.extend(_coords(part))
    return out


def rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The rings of a Polygon or MultiPolygon geometry (outer and holes alike)."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return []
    return [[(float(x), float(y)) for x, y, *_ in ring] for polygon in polygons for ring in polygon]
