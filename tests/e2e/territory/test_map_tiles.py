"""The map draws its big layers from vector tiles: at zoom 15 over 沈河区 every building in view
is drawn (no cap), and a click on a building still opens its popup (a real browser, the real
app and tiles, the 沈河区 demo data)."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import PageProbe
from sqlalchemy import Engine, text
from test_map_page import TIMEOUT_MS, click_at, go_to, open_map, wait_for_tiled, wait_until_idle

pytestmark = pytest.mark.e2e


def _busiest_point(engine: Engine) -> dict[str, Any]:
    """A building in the densest ~1 km square of the test district, with its grid and name."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "WITH cell AS (SELECT ST_SnapToGrid(ST_Centroid(geom), 0.01) AS c, count(*) AS n "
            "FROM building GROUP BY 1 ORDER BY n DESC LIMIT 1) "
            "SELECT b.name, b.grid_code, ST_X(ST_PointOnSurface(b.geom)) AS lon, "
            "ST_Y(ST_PointOnSurface(b.geom)) AS lat FROM building b, cell "
            "ORDER BY b.geom <-> cell.c LIMIT 1")).mappings().one())


def _buildings_in_view(engine: Engine, bounds: list[float]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM building WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
            dict(zip("wsen", bounds, strict=True))).scalar_one())


def test_every_building_in_view_is_drawn_from_tiles_and_clicks_still_locate(
        probe: PageProbe, engine: Engine) -> None:
    target = _busiest_point(engine)
    page = open_map(probe)
    go_to(page, target["lon"], target["lat"], 15)
    wait_until_idle(page)
    bounds = page.evaluate("() => { const b = window.gridmap.map.getBounds(); "
                           "return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    expected = _buildings_in_view(engine, bounds)
    assert expected > 200, "the view should hold a city-block's worth of buildings"
    # Tiles reach a little past the view: at least every building in it is drawn.
    drawn = wait_for_tiled(page, "buildings", at_least=expected)
    assert drawn >= expected
    assert page.locator(".leaflet-gm-buildings-pane canvas").count() >= 1
    assert not page.locator(".leaflet-gm-buildings-pane path").count(), "tiles, not SVG"
    assert page.locator("#gm-status").inner_text().strip() == "", "no 'zoom in' or cap hint"
    probe.screenshot("map-tiles-z15")

    click_at(page, target["lon"], target["lat"])
    popup = page.locator(".leaflet-popup .gm-location")
    popup.wait_for(timeout=TIMEOUT_MS)
    page.locator(".leaflet-popup .gm-location .gm-kv").wait_for(timeout=TIMEOUT_MS)
    text_ = popup.inner_text()
    assert target["grid_code"] in text_ and target["name"] in text_, text_
    probe.screenshot("map-tiles-popup")


def test_tiles_are_fetched_gzip_and_revalidated(probe: PageProbe, engine: Engine) -> None:
    target = _busiest_point(engine)
    answers: list[Any] = []
    probe.page.on("response", lambda r: answers.append(r) if ".mvt" in r.url else None)
    page = open_map(probe)
    go_to(page, target["lon"], target["lat"], 15)
    wait_until_idle(page)
    wait_for_tiled(page, "buildings")
    # Drawn 512 pixels wide from the zoom above's data: zoom 15 shows zoom-14 tiles.
    tiles = [r for r in answers if "/tiles/buildings/14/" in r.url]
    assert tiles and all(r.status == 200 for r in tiles)
    headers = tiles[0].all_headers()
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert headers["etag"] and "no-cache" in headers["cache-control"]
