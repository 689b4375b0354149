"""The map page in a real browser, against the real app and the 沈河区 demo data."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from e2e_support import PageProbe, open_probe, serve
from shapely.geometry import shape

pytestmark = pytest.mark.e2e

GRID_CODE = re.compile(r"\b\d{15}\b")
TIMEOUT_MS = 15_000


def api(base_url: str, path: str, **params: Any) -> Any:
    """GET a JSON document from the live server (as the page would, but from Python)."""
    url = f"{base_url}/api/{path}" + (f"?{urlencode(params)}" if params else "")
    with urlopen(Request(url, headers={"Accept": "application/json"}), timeout=30) as response:
        return json.load(response)


def api_error(base_url: str, path: str, **params: Any) -> Any:
    """The JSON error body of an API call that is expected to fail."""
    try:
        api(base_url, path, **params)
    except HTTPError as exc:
        with exc:
            return json.load(exc)
    raise AssertionError(f"/api/{path} {params} unexpectedly succeeded")


def minzoom(meta: dict[str, Any], layer: str) -> int:
    return next(int(item["minzoom"]) for item in meta["layers"] if item["name"] == layer)


def a_grid(base_url: str) -> tuple[dict[str, Any], tuple[float, float]]:
    """Some grid of the loaded data and a point well inside it (lon, lat)."""
    meta = api(base_url, "meta")
    bbox = ",".join(str(v) for v in meta["extent"])
    grids = api(base_url, "layers/grids.geojson", bbox=bbox, zoom=minzoom(meta, "grids"))
    feature = max(grids["features"][:50], key=lambda f: shape(f["geometry"]).area)
    point = shape(feature["geometry"]).representative_point()
    return feature, (point.x, point.y)


def open_map(probe: PageProbe, path: str = "/") -> Any:
    """Load the page and wait until the layer definitions from /api/meta are in place."""
    page = probe.page
    page.goto(path)
    page.wait_for_function("() => window.gridmap && window.gridmap.layers.length > 0",
                           timeout=TIMEOUT_MS)
    return page


def go_to(page: Any, lon: float, lat: float, zoom: int) -> None:
    # The arrow returns nothing: Playwright would otherwise try to serialise the Leaflet map.
    page.evaluate("([lat, lon, zoom]) => { window.gridmap.map.setView([lat, lon], zoom, "
                  "{animate: false}); }", [lat, lon, zoom])


def wait_for_paths(page: Any, pane: str) -> int:
    selector = f".leaflet-{pane}-pane path"
    page.wait_for_function(f"() => document.querySelectorAll({selector!r}).length > 0",
                           timeout=TIMEOUT_MS)
    return int(page.locator(selector).count())


def wait_for_tiled(page: Any, layer: str, at_least: int = 1) -> int:
    """Wait until a vector-tile layer has drawn ``at_least`` distinct features; their count."""
    page.wait_for_function(f"() => window.gridmap.drawnFeatures({layer!r}) >= {at_least}",
                           timeout=TIMEOUT_MS)
    return int(page.evaluate(f"() => window.gridmap.drawnFeatures({layer!r})"))


def wait_until_idle(page: Any) -> None:
    """Wait until the view has settled and every visible layer has drawn its data for it."""
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def test_map_page_loads_offline_without_errors(probe: PageProbe) -> None:
    page = open_map(probe)
    wait_until_idle(page)
    assert "网格地图" in page.title()
    control = page.locator(".leaflet-control-layers")
    for title in ("区", "街道", "社区", "网格", "楼院", "街巷"):
        assert control.get_by_text(title, exact=True).count() >= 1, title
    assert wait_for_paths(page, "gm-districts") >= 1
    assert page.locator(".gm-map-plain").count() == 1, "no tile URL: plain background expected"
    probe.screenshot("map-initial")


def test_grids_draw_when_zoomed_in(probe: PageProbe, live_server: str) -> None:
    meta = api(live_server, "meta")
    _, (lon, lat) = a_grid(live_server)
    page = open_map(probe)
    go_to(page, lon, lat, minzoom(meta, "grids") + 1)
    assert wait_for_tiled(page, "grids") > 3
    wait_until_idle(page)
    probe.screenshot("map-grids")


def test_click_on_a_grid_shows_its_hierarchy(probe: PageProbe, live_server: str) -> None:
    feature, (lon, lat) = a_grid(live_server)
    expected = api(live_server, "locate", lon=lon, lat=lat)
    page = open_map(probe)
    go_to(page, lon, lat, 17)
    wait_for_tiled(page, "grids")
    wait_until_idle(page)
    click_at(page, lon, lat)
    popup = page.locator(".leaflet-popup .gm-location")
    popup.wait_for(timeout=TIMEOUT_MS)
    text = popup.inner_text()
    assert GRID_CODE.search(text), text
    assert expected["grid"]["code"] == feature["id"]
    for level in ("grid", "community", "subdistrict", "district"):
        assert expected[level]["name"] in text, (level, text)
    assert "入格部门" in text
    probe.screenshot("map-popup")


def click_at(page: Any, lon: float, lat: float) -> None:
    box = page.locator("#map").bounding_box()
    point = page.evaluate("([lat, lon]) => window.gridmap.map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def test_click_on_a_facility_shows_it_with_the_hierarchy(probe: PageProbe,
                                                         live_server: str) -> None:
    _, (lon, lat) = a_grid(live_server)
    page = open_map(probe)
    go_to(page, lon, lat, 16)
    markers = page.locator(".leaflet-gm-facilities-pane path.leaflet-interactive")
    markers.first.wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page)
    # Leaflet also draws markers in a margin around the view: click one that is on screen.
    view = page.locator("#map").bounding_box()
    assert view is not None
    on_screen = [box for box in (markers.nth(i).bounding_box() for i in range(markers.count()))
                 if box is not None
                 and view["x"] + 20 < box["x"] + box["width"] / 2 < view["x"] + view["width"] - 20
                 and view["y"] + 20 < box["y"] + box["height"] / 2 < view["y"] + view["height"] - 20]
    assert on_screen, "no facility marker inside the view"
    page.mouse.click(on_screen[0]["x"] + on_screen[0]["width"] / 2,
                     on_screen[0]["y"] + on_screen[0]["height"] / 2)
    popup = page.locator(".leaflet-popup")
    popup.locator(".gm-location").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(400)          # a stray map click would replace the popup by now
    assert popup.locator(".gm-facility").count() == 1, "facility details were replaced"
    assert GRID_CODE.search(popup.inner_text())
    probe.screenshot("map-facility")


def test_click_outside_every_grid_says_so(probe: PageProbe, live_server: str) -> None:
    minx, miny, _, _ = api(live_server, "meta")["extent"]
    lon, lat = minx - 0.05, miny - 0.05
    page = open_map(probe)
    go_to(page, lon, lat, 14)
    wait_until_idle(page)
    click_at(page, lon, lat)
    error = page.locator(".leaflet-popup .gm-popup-error")
    error.wait_for(timeout=TIMEOUT_MS)
    message = api_error(live_server, "locate", lon=lon, lat=lat)["error"]["message"]
    chinese, english = message.rsplit(" (", 1)  # the API's "中文 (English)"
    assert english.endswith(")") and error.inner_text() == chinese  # the page's language only
    # Chrome logs every non-2xx fetch as a console error; this 404 is the expected answer.
    probe.console_errors[:] = [e for e in probe.console_errors if "404" not in e]


def test_search_for_a_community_zooms_there(probe: PageProbe, live_server: str) -> None:
    meta = api(live_server, "meta")
    communities = api(live_server, "layers/communities.geojson",
                      bbox=",".join(map(str, meta["extent"])), zoom=minzoom(meta, "communities"))
    name = communities["features"][0]["properties"]["name"]
    page = open_map(probe)
    wait_until_idle(page)
    zoom_before = page.evaluate("() => window.gridmap.map.getZoom()")
    page.locator("#gm-search-input").fill(name)
    result = page.locator(".gm-search-result", has_text=name).first
    result.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("search-results")
    result.click()
    page.wait_for_function("(z) => window.gridmap.map.getZoom() > z", arg=zoom_before,
                           timeout=TIMEOUT_MS)
    hit = next(r for r in api(live_server, "search", q=name)["results"] if r["name"] == name)
    minx, miny, maxx, maxy = hit["bbox"]
    center = page.evaluate("() => window.gridmap.map.getCenter()")
    assert minx <= center["lng"] <= maxx and miny <= center["lat"] <= maxy
    assert page.locator(".gm-highlight").count() == 1
    # The highlight must not be clipped by an SVG renderer sized for the previous view.
    assert page.evaluate("""() => {
        const path = document.querySelector('.gm-highlight');
        const r = path.getBoundingClientRect(), s = path.ownerSVGElement.getBoundingClientRect();
        return s.left <= r.left && s.top <= r.top && s.right >= r.right && s.bottom >= r.bottom;
    }""")
    wait_until_idle(page)
    assert page.locator(".gm-highlight").count() == 1, "highlight gone before the map settled"
    probe.screenshot("search-zoomed")


def _highlight_vertices(page: Any) -> int:
    """How many vertices the drawn highlight path has (a rectangle has 4)."""
    return int(page.evaluate("""() => {
        const d = document.querySelector('.gm-highlight').getAttribute('d') || '';
        return (d.match(/[ML]/g) || []).length;
    }"""))


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("kind", ["street", "community"])
def test_search_highlights_the_real_shape(request: pytest.FixtureRequest, live_server: str,
                                          engine: Any, kind: str, size: str) -> None:
    """Issue 12: choosing a street draws its line, a community its outline — not a rectangle.

    At 1280×800 and at 390×844; the street is the test district's longest-named one (the demo's
    团结街 is not in the test data), found by its name like the community.
    """
    from sqlalchemy import text
    probe: PageProbe = request.getfixturevalue("probe" if size == "desktop" else "phone_probe")
    query = {"street": "SELECT name FROM street_edge WHERE name <> '' GROUP BY name "
                       "ORDER BY count(*) DESC LIMIT 1",
             "community": "SELECT name FROM community ORDER BY ST_NPoints(geom) DESC LIMIT 1"}
    with engine.connect() as conn:
        name = conn.execute(text(query[kind])).scalar_one()
    page = open_map(probe)
    wait_until_idle(page)
    page.locator("#gm-search-input").fill(name)
    label = {"street": "街巷", "community": "社区"}[kind]
    result = (page.locator(".gm-search-result")
              .filter(has=page.locator(".gm-result-kind", has_text=re.compile(f"^{label}$")))
              .filter(has=page.locator(".gm-result-name", has_text=re.compile(f"^{name}$"))))
    result.wait_for(timeout=TIMEOUT_MS)
    assert result.count() == 1
    result.click()
    page.locator(f".gm-highlight[data-kind='{kind}']").wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page)
    hit = next(r for r in api(live_server, "search", q=name)["results"]
               if r["kind"] == kind and r["name"] == name)
    assert _highlight_vertices(page) > 5
    assert shape(hit["geometry"]).geom_type.endswith("LineString" if kind == "street" else "Polygon")
    if kind == "street":  # a line is not filled
        assert page.locator(".gm-highlight").get_attribute("fill") in (None, "none")
    probe.screenshot(f"search-{kind}-outline-{size}")


def test_language_switch_to_english(probe: PageProbe) -> None:
    page = open_map(probe)
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    page.wait_for_function("() => window.gridmap && window.gridmap.layers.length > 0",
                           timeout=TIMEOUT_MS)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".gm-brand-name").inner_text() == "Grid map"
    placeholder = page.locator("#gm-search-input").get_attribute("placeholder") or ""
    assert placeholder.startswith("Search"), placeholder
    assert not re.search(r"[\u4e00-\u9fff]", page.locator(".gm-header").inner_text()
                         .replace("中文", "")), "Chinese left in the English header"
    wait_until_idle(page)
    probe.screenshot("map-english")
    page.goto("/")                       # the choice is remembered in a cookie
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**/?lang=zh")
    assert page.locator(".gm-brand-name").inner_text() == "网格地图"


def test_phone_layout(phone_probe: PageProbe) -> None:
    page = open_map(phone_probe)
    wait_until_idle(page)
    search = page.locator("#gm-search-input").bounding_box()
    assert search["height"] >= 44 and search["width"] >= 300
    assert page.locator(".leaflet-control-layers-expanded").count() == 0, "collapsed on phones"
    map_box = page.locator("#map").bounding_box()
    assert map_box["height"] > 600
    phone_probe.screenshot("map-phone")


def test_missing_node_modules_is_explained(browser: Any, settings: Any, tmp_path: Path) -> None:
    from gridmap.app import create_app

    app = create_app(dataclasses.replace(settings, assets_dir=tmp_path / "node_modules"))
    with serve(app) as base_url, open_probe(browser, base_url) as probe:
        probe.page.goto("/")
        banner = probe.page.get_by_role("alert")
        assert "npm ci" in banner.inner_text()
        status = probe.page.locator("#gm-status")
        status.wait_for(timeout=TIMEOUT_MS)
        assert "npm ci" in status.inner_text()
        probe.screenshot("map-without-node-modules")
        # The 404s for leaflet.js/.css (and Leaflet.VectorGrid) are the point of this test;
        # with nosniff the browser also reports refusing their HTML error bodies as a script
        # and a stylesheet.
        probe.console_errors[:] = [e for e in probe.console_errors
                                   if "404" not in e and "/vendor/leaflet" not in e]
