"""The coverage report as a PDF: a Jinja HTML template printed by WeasyPrint, with the map as an
SVG drawn here from the report's geometries (no tiles, no network)."""

from __future__ import annotations

import html
import math
from typing import Any

import jinja2
import weasyprint

from gridmap.reports.document import BAND_COLOURS, FACILITY_COLOUR, GAP_OUTLINE, CoverageReport, rings

TEMPLATE = "reports/coverage.html"
MAP_WIDTH_PX = 680
MAP_HEIGHT_PX = 520
_env = jinja2.Environment(loader=jinja2.PackageLoader("gridmap", "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined)


def render(report: CoverageReport) -> bytes:
    """The report as PDF bytes (A4: summary and map; worst communities and the GB 50180 audit;
    suggested sites)."""
    page = _env.get_template(TEMPLATE).render(report=report, map_svg=svg_map(report),
                                              percent=percent)
    return weasyprint.HTML(string=page).write_pdf()  # type: ignore[no-any-return]


def percent(rate: float | None) -> str:
    """A share as '87.5%', or '—' when there is none."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


class _Frame:
    """Lon/lat to SVG pixels: equirectangular at the area's latitude, fitted with a margin."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int, height: int):
        minx, miny, maxx, maxy = bounds
        self.kx = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * self.kx, 1e-6)
        span_y = max(maxy - miny, 1e-6)
        self.scale = min((width - 40) / span_x, (height - 40) / span_y)
        self.x0 = minx - ((width / self.scale - span_x) / 2) / self.kx
        self.y1 = maxy + (height / self.scale - span_y) / 2

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.x0) * self.kx * self.scale, (self.y1 - lat) * self.scale)


def svg_map(report: CoverageReport, *, width: int = MAP_WIDTH_PX,
            height: int = MAP_HEIGHT_PX) -> str:
    """The report's map as an SVG document: community outlines (GB 50180 gaps dashed red),
    buildings by band, facilities, suggested sites and community names."""
    frame = _Frame(report.bounds(), width, height)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="WenQuanYi Micro Hei, sans-serif">',
             f'<rect width="{width}" height="{height}" fill="#f4f4f0"/>']
    for feature in report.buildings:
        colour = BAND_COLOURS.get(str(feature["properties"].get("band")), "#999999")
        parts.append(_path(frame, feature["geometry"], f'fill="{colour}" stroke="{colour}" '
                                                         'stroke-width="0.5"'))
    for feature in report.communities:
        gap = feature["properties"].get("status") == "gap"
        style = (f'fill="none" stroke="{GAP_OUTLINE}" stroke-width="1.5" stroke-dasharray="6 4"'
                 if gap else 'fill="none" stroke="#555555" stroke-width="1"')
        parts.append(_path(frame, feature["geometry"], style))
    for f in report.facilities:
        x, y = frame.xy(float(f["lon"]), float(f["lat"]))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{FACILITY_COLOUR}" '
                     'stroke="#ffffff" stroke-width="1.5"/>')
    for s in report.sites:
        x, y = frame.xy(float(s["lon"]), float(s["lat"]))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="none" '
                     f'stroke="{FACILITY_COLOUR}" stroke-width="1.5" stroke-dasharray="2 2"/>'
                     f'<text x="{x + 8:.1f}" y="{y + 4:.1f}" font-size="11" '
                     f'fill="{FACILITY_COLOUR}">{int(s["rank"])}</text>')
    for feature in report.communities:
        props = feature["properties"]
        x, y = frame.xy(float(props["label_lon"]), float(props["label_lat"]))
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="middle" '
                     f'fill="#333333">{html.escape(str(props["name"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _path(frame: _Frame, geometry: dict[str, Any], style: str) -> str:
    d = []
    for ring in rings(geometry):
        points = [frame.xy(lon, lat) for lon, lat in ring]
        d.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return f'<path d="{"".join(d)}" {style} fill-rule="evenodd"/>'
