"""The coverage report as one self-contained HTML map made with folium.

folium links Leaflet, jQuery, Bootstrap and icon fonts from CDNs; a map sent as an e-mail
attachment must open offline, so the map uses only what Leaflet itself needs (paths and
``DivIcon`` labels, no icon markers, no tiles) and Leaflet's script and style are inlined from
the npm package the app already serves (``node_modules/leaflet``), with the stylesheet's
images as data URIs. A link that is still external after that is an error, never a silent
network reference.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import folium
from branca.element import Element, Figure

from gridmap.reports.document import BAND_COLOURS, BAND_NAMES, FACILITY_COLOUR, GAP_OUTLINE, CoverageReport

LEAFLET_JS = "leaflet/dist/leaflet.js"
LEAFLET_CSS = "leaflet/dist/leaflet.css"
_SCRIPT_LINK = re.compile(r'<script src="([^"]+)"></script>')
_CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/?>')
_CSS_IMAGE = re.compile(r"url\((images/[a-z0-9-]+\.png)\)")


class ExternalReference(RuntimeError):
    """The rendered map still links a script or style that is not inlined."""


def build(report: CoverageReport, *, assets_dir: Path) -> str:
    """The report's map as one HTML document with every script and style inlined.

    Parameters
    ----------
    report : CoverageReport
        What to draw.
    assets_dir : Path
        The ``node_modules`` folder holding the ``leaflet`` package.
    """
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    # Only Leaflet: the other CDN assets folium links by default serve icon markers and popups
    # we do not use. The placeholders are replaced by the files' contents in _inline.
    fmap.default_js = [("leaflet", LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", LEAFLET_CSS)]
    _communities(fmap, report)
    _buildings(fmap, report)
    _facilities(fmap, report)
    _labels(fmap, report)
    folium.LayerControl(collapsed=False).add_to(fmap)
    figure = fmap.get_root()
    assert isinstance(figure, Figure)  # a Map is always placed in a Figure
    figure.html.add_child(Element(_legend(report)))
    figure.header.add_child(Element(f"<title>{html.escape(report.title)}</title>"))
    minx, miny, maxx, maxy = report.bounds()
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return _inline(figure.render(), assets_dir)


def _communities(fmap: folium.Map, report: CoverageReport) -> None:
    layer = folium.FeatureGroup(name="社区边界 (communities)")
    folium.GeoJson(
        {"type": "FeatureCollection", "features": report.communities},
        style_function=lambda f: {
            "color": GAP_OUTLINE if f["properties"].get("status") == "gap" else "#555555",
            "weight": 2, "fill": False,
            "dashArray": "6 4" if f["properties"].get("status") == "gap" else None},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(layer)
    layer.add_to(fmap)


def _buildings(fmap: folium.Map, report: CoverageReport) -> None:
    for band, colour in BAND_COLOURS.items():
        features = [f for f in report.buildings if f["properties"].get("band") == band]
        if not features:
            continue
        layer = folium.FeatureGroup(name=f"{BAND_NAMES[band]}楼院 ({band})")
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda f, c=colour: {"color": c, "weight": 1, "fillColor": c,
                                                "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(fields=["name", "distance_m"],
                                          aliases=["楼院", "步行距离 (米)"]),
        ).add_to(layer)
        layer.add_to(fmap)


def _facilities(fmap: folium.Map, report: CoverageReport) -> None:
    layer = folium.FeatureGroup(name=f"{report.facility_type_name} (facilities)")
    for f in report.facilities:
        folium.CircleMarker(location=[float(f["lat"]), float(f["lon"])], radius=6,
                            color="#ffffff", weight=2, fill=True, fill_color=FACILITY_COLOUR,
                            fill_opacity=1.0, tooltip=str(f["name"])).add_to(layer)
    for s in report.sites:
        folium.CircleMarker(location=[float(s["lat"]), float(s["lon"])], radius=7,
                            color=FACILITY_COLOUR, weight=2, dash_array="3 3", fill=False,
                            tooltip=f"建议新址 {s['rank']}").add_to(layer)
    layer.add_to(fmap)


def _labels(fmap: folium.Map, report: CoverageReport) -> None:
    layer = folium.FeatureGroup(name="社区名称 (names)")
    for feature in report.communities:
        lon, lat = feature["properties"]["label_lon"], feature["properties"]["label_lat"]
        icon = folium.DivIcon(html=f'<div class="gm-area-label">'
                                   f'{html.escape(str(feature["properties"]["name"]))}</div>',
                              icon_size=(120, 18), icon_anchor=(60, 9))
        folium.Marker(location=[float(lat), float(lon)], icon=icon).add_to(layer)
    layer.add_to(fmap)


def _legend(report: CoverageReport) -> str:
    rows = "".join(f'<div><span class="gm-swatch" style="background:{c}"></span>'
                   f"{BAND_NAMES[b]}</div>" for b, c in BAND_COLOURS.items())
    return (
        "<style>.gm-legend{position:absolute;z-index:1000;bottom:56px;left:12px;"
        "background:#fff;padding:8px 10px;font:13px sans-serif;border-radius:4px;"
        "box-shadow:0 1px 4px rgba(0,0,0,.3)}.gm-swatch{display:inline-block;width:12px;"
        "height:12px;margin-right:6px;vertical-align:middle}.gm-area-label{font:12px "
        "sans-serif;color:#333;text-align:center;white-space:nowrap;text-shadow:0 0 3px #fff}"
        "</style>"
        f'<div class="gm-legend"><strong>{html.escape(report.title)}</strong>'
        f"<div>步行 {report.max_distance_m:.0f} 米以内</div>{rows}"
        f'<div><span class="gm-swatch" style="background:{FACILITY_COLOUR};'
        f'border-radius:50%"></span>{html.escape(report.facility_type_name)}</div>'
        f'<div><span class="gm-swatch" style="border:2px dashed {GAP_OUTLINE}"></span>'
        "未达标社区 (GB 50180)</div></div>")


def _inline(page: str, assets_dir: Path) -> str:
    def script(match: re.Match[str]) -> str:
        if match.group(1) != LEAFLET_JS:
            raise ExternalReference(f"script not inlined: {match.group(1)}")
        return f"<script>{(assets_dir / LEAFLET_JS).read_text('utf-8')}</script>"

    def style(match: re.Match[str]) -> str:
        if match.group(1) != LEAFLET_CSS:
            raise ExternalReference(f"stylesheet not inlined: {match.group(1)}")
        css = (assets_dir / LEAFLET_CSS).read_text("utf-8")
        return f"<style>{_CSS_IMAGE.sub(lambda m: _data_uri(assets_dir, m), css)}</style>"

    return _CSS_LINK.sub(style, _SCRIPT_LINK.sub(script, page))


def _data_uri(assets_dir: Path, match: re.Match[str]) -> str:
    data = (assets_dir / "leaflet/dist" / match.group(1)).read_bytes()
    return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"


def external_links(page: str) -> list[str]:
    """http(s) URLs a page would load as a script, stylesheet or image (for tests and checks)."""
    found: list[str] = []
    for pattern in (r'<script[^>]+src="(https?:[^"]+)"', r'<link[^>]+href="(https?:[^"]+)"',
                    r'url\((["\']?)(https?:[^)"\']+)', r'(https?://[^"\'\s]*\{z\}[^"\'\s]*)'):
        for m in re.finditer(pattern, page):
            found.append(m.groups()[-1])
    return found
