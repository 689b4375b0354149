"""Export from the map page (issue 12 item 6): the layer panel's "导出此图层" and the popup's
"导出该区域的…" download real files through /api/exports for a data officer of 沈河区; other
roles see neither. Screenshots at 1280×800 and 390×844 go to test-artifacts/map-export-*.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import open_probe
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 30_000
DISTRICT = "210103"


@pytest.fixture
def officer(engine: Engine) -> Iterator[Account]:
    account = make_account(engine, "data_officer", area_code=DISTRICT)
    yield account
    remove_accounts(engine, [account])


@pytest.fixture
def planner(engine: Engine) -> Iterator[Account]:
    account = make_account(engine, "planner", area_code=DISTRICT)
    yield account
    remove_accounts(engine, [account])


def open_map(page: Any) -> None:
    page.goto("/")
    page.wait_for_function("() => window.gridmap && window.gridmap.layers.length > 0",
                           timeout=TIMEOUT_MS)


def a_community(engine: Engine) -> tuple[str, str, float, float, int]:
    """A community of the district, a point inside it, and how many buildings it holds."""
    with engine.connect() as conn:
        code, name, lon, lat = conn.execute(text(
            "SELECT c.code, c.name, ST_X(p), ST_Y(p) FROM community c, "
            "LATERAL ST_PointOnSurface(c.geom) p WHERE c.code LIKE :d || '%' ORDER BY c.code "
            "LIMIT 1"), {"d": DISTRICT}).one()
        buildings = conn.execute(text("SELECT count(*) FROM building WHERE code LIKE :c || '%'"),
                                 {"c": code}).scalar_one()
    return str(code), str(name), float(lon), float(lat), int(buildings)


def download(page: Any, link: Any, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Click an export link: the file the browser saved, and the headers of the same request
    made again with the page's cookies (a download fires no response event)."""
    with page.expect_download(timeout=TIMEOUT_MS) as started:
        link.click()
    target = tmp_path / started.value.suggested_filename
    started.value.save_as(target)
    again = page.context.request.get(link.get_attribute("href"))
    assert again.status == 200, again.text()
    assert target.stat().st_size == len(again.body()) > 0
    return again.headers, target


def _map_at(probe: Any, officer: Account, lon: float, lat: float) -> Any:
    """The map page, signed in as ``officer``, at zoom 16 on (lon, lat)."""
    page = probe.page
    sign_in(page, officer)
    open_map(page)
    page.evaluate("([lat, lon]) => { window.gridmap.map.setView([lat, lon], 16, "
                  "{animate: false}); }", [lat, lon])
    return page


def test_layer_panel_exports_the_view_area(browser: Any, live_server: str, engine: Engine,
                                           officer: Account, tmp_path: Path) -> None:
    code, name, lon, lat, buildings = a_community(engine)
    with open_probe(browser, live_server) as probe:
        page = _map_at(probe, officer, lon, lat)
        page.locator(".gm-export-toggle").click()
        area = page.locator(".gm-export-form .gm-export-area")
        page.wait_for_function(f"() => !!document.querySelector('.gm-export-form "
                               f".gm-export-area option[value=\"{code}\"]')", timeout=TIMEOUT_MS)
        assert name in area.locator(f"option[value='{code}']").inner_text()
        area.select_option(code)
        page.locator(".gm-export-form .gm-export-layer").select_option("buildings")
        page.locator(".gm-export-form .gm-export-format").select_option("geojson")
        page.locator(".gm-export-form .gm-export-crs").select_option("gcj02")
        probe.screenshot("map-export-panel")
        answer, saved = download(page, page.locator(".gm-export-form .gm-export-link"), tmp_path)
        assert answer["content-type"].startswith("application/geo+json")
        assert int(answer["x-feature-count"]) == buildings > 0
        collection = json.loads(saved.read_text(encoding="utf-8"))
        assert len(collection["features"]) == buildings
        assert saved.name == f"buildings-{code}-gcj02.geojson"


def test_popup_exports_its_community(browser: Any, live_server: str, engine: Engine,
                                     officer: Account, tmp_path: Path) -> None:
    code, name, lon, lat, buildings = a_community(engine)
    with open_probe(browser, live_server) as probe:
        page = _map_at(probe, officer, lon, lat)
        page.locator("#map").click(position={"x": 640, "y": 400 - 28})  # header shifts the map
        popup = page.locator(".gm-export-popup")
        popup.wait_for(timeout=TIMEOUT_MS)
        assert "导出该区域的" in popup.inner_text()
        area = popup.locator(".gm-export-area")
        assert area.input_value().startswith(DISTRICT)
        community = area.input_value()
        popup.locator(".gm-export-format").select_option("csv")
        probe.screenshot("map-export-popup")
        answer, saved = download(page, popup.locator(".gm-export-link"), tmp_path)
        assert answer["content-type"].startswith("text/csv")
        rows = saved.read_text(encoding="utf-8-sig").splitlines()
        assert len(rows) - 1 == int(answer["x-feature-count"]) > 0
        assert saved.name == f"buildings-{community}-wgs84.csv"
        area.select_option(community[:6])
        assert f"district={DISTRICT}" in (popup.locator(".gm-export-link").get_attribute("href")
                                          or "")


def test_phone_layout(browser: Any, live_server: str, engine: Engine, officer: Account) -> None:
    _, _, lon, lat, _ = a_community(engine)
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, device_scale_factor=2) as probe:
        page = probe.page
        sign_in(page, officer)
        open_map(page)
        page.evaluate("([lat, lon]) => { window.gridmap.map.setView([lat, lon], 15, "
                      "{animate: false}); }", [lat, lon])
        page.locator(".gm-export-toggle").click()
        page.locator(".gm-export-form .gm-export-area option[data-level]").first.wait_for(
            state="attached", timeout=TIMEOUT_MS)
        box = page.locator(".gm-export").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        probe.screenshot("map-export-phone")


def test_roles_that_may_not_export_see_no_export(browser: Any, live_server: str,
                                                 planner: Account) -> None:
    with open_probe(browser, live_server) as probe:
        page = probe.page
        open_map(page)  # the public
        assert page.locator(".gm-export-toggle").count() == 0
        sign_in(page, planner)
        open_map(page)
        assert page.locator(".gm-export-toggle").count() == 0
        assert page.evaluate("() => window.GridmapMapExport === undefined")
