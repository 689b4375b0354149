"""The case map in a real browser: clusters, state-coloured points, heatmap, popup → detail.

Runs against the live test app (real PostGIS, 沈河区), offline-guarded. Cases are filed through
the JSON API like the other case e2e tests (the test database is rebuilt each session), by the
staff of the sub-district they lie in, who is also the one signed in to look at the map. Every
step is photographed into test-artifacts/ (case-map-*.png); look at them, passing is not enough.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from e2e_support import Accounts, PageProbe, TestAccount, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
DESCRIPTION = "案件地图浏览器测试：小区门口垃圾堆积"


@dataclass(frozen=True)
class Filed:
    """A case this module filed, where, and in which state it ended."""

    id: int
    lon: float
    lat: float
    state: str
    overdue: bool


# Eight grids of one sub-district, each with a point well inside it.
_GRIDS_SQL = text("""
    WITH s AS (SELECT subdistrict_code FROM grid g JOIN community c ON c.code = g.community_code
               GROUP BY subdistrict_code HAVING count(*) >= 8 ORDER BY subdistrict_code LIMIT 1)
    SELECT g.code, s.subdistrict_code, ST_X(ST_PointOnSurface(g.geom)) AS lon,
           ST_Y(ST_PointOnSurface(g.geom)) AS lat
    FROM grid g JOIN community c ON c.code = g.community_code
    JOIN s ON s.subdistrict_code = c.subdistrict_code
    ORDER BY g.code LIMIT 8
""")


@pytest.fixture(scope="module")
def grids(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        found = conn.execute(_GRIDS_SQL).mappings().all()
    assert len(found) == 8, "no sub-district of the test data has eight grids"
    return list(found)


@pytest.fixture(scope="module")
def staff(accounts: Accounts, grids: list[Any]) -> TestAccount:
    """Staff of the sub-district that holds the eight grids."""
    return accounts.create("subdistrict_staff", name="街道网格中心值班员",
                           area_code=grids[0]["subdistrict_code"])


@pytest.fixture(scope="module")
def filed(engine: Engine, app: Any, grids: list[Any], staff: TestAccount,
          accounts: Accounts) -> list[Filed]:
    """Eight cases close together: six reported, one dispatched, one overdue."""
    client = app.test_client()
    headers = accounts.headers(staff)
    out: list[Filed] = []
    for i, grid in enumerate(grids):
        response = client.post("/api/cases", headers=headers, json={
            "category": "cityscape" if i % 2 else "heating",
            "description": DESCRIPTION, "lon": grid["lon"], "lat": grid["lat"],
            "grid_code": grid["code"], "confirm_new": True, "client_token": str(uuid.uuid4())})
        assert response.status_code == 201, response.get_json()
        out.append(Filed(int(response.get_json()["case_id"]), float(grid["lon"]),
                         float(grid["lat"]), "reported", False))
    first = out[0]
    version = client.get(f"/api/cases/{first.id}", headers=headers).get_json()["version"]
    response = client.post(f"/api/cases/{first.id}/actions", headers=headers, json={
        "action": "dispatch", "version": version})
    assert response.status_code == 200, response.get_json()
    out[0] = Filed(first.id, first.lon, first.lat, response.get_json()["state"], False)
    with engine.begin() as conn:
        conn.execute(text("""UPDATE "case" SET resolve_by = now() - interval '2 days'
                             WHERE id = :id"""), {"id": out[1].id})
    out[1] = Filed(out[1].id, out[1].lon, out[1].lat, "reported", True)
    return out


def open_map(probe: PageProbe, staff: TestAccount, query: str = "") -> Any:
    page = probe.page
    sign_in(page, staff, next_path="/cases/map" + query)
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    return page


def go_to(page: Any, lon: float, lat: float, zoom: int) -> None:
    page.evaluate("([lat, lon, zoom]) => window.gridmap.map.setView([lat, lon], zoom, {animate: false})",
                  [lat, lon, zoom])
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def centre(cases: list[Filed]) -> tuple[float, float]:
    return (sum(c.lon for c in cases) / len(cases), sum(c.lat for c in cases) / len(cases))


def test_clusters_at_low_zoom_and_coloured_points_up_close(probe: PageProbe, filed: list[Filed],
                                                           staff: TestAccount) -> None:
    page = open_map(probe, staff)
    assert page.title().startswith("案件地图")
    probe.screenshot("case-map-start")
    lon, lat = centre(filed)
    go_to(page, lon, lat, 13)
    page.wait_for_selector(".marker-cluster", timeout=TIMEOUT_MS)
    shown = page.locator("#gc-cmap-count").inner_text()
    assert shown.startswith("显示 ") and shown.endswith(" 件"), shown
    assert int(shown.split()[1].replace(",", "")) >= len(filed)
    # Each state chip carries its marker colour: the legend.
    assert page.locator(".gc-cmap-states .gc-cmap-swatch").count() == 10
    probe.screenshot("case-map-clusters")

    overdue = next(c for c in filed if c.overdue)
    go_to(page, overdue.lon, overdue.lat, 16)
    probe.screenshot("case-map-zoom16")
    go_to(page, overdue.lon, overdue.lat, 18)
    marker = page.locator(f"path.gc-cmap-pt-overdue.gc-cmap-pt-{overdue.state}")
    marker.first.wait_for(timeout=TIMEOUT_MS)
    stroke = marker.first.evaluate("n => getComputedStyle(n).stroke")
    assert stroke == "rgb(208, 2, 27)", stroke
    dispatched = filed[0]
    go_to(page, dispatched.lon, dispatched.lat, 18)
    fill = page.locator("path.gc-cmap-pt-dispatched").first.evaluate("n => getComputedStyle(n).fill")
    assert fill == "rgb(31, 99, 196)", fill
    probe.screenshot("case-map-points")


def test_click_a_point_opens_a_popup_that_links_to_the_detail(probe: PageProbe, filed: list[Filed],
                                                              staff: TestAccount) -> None:
    page = open_map(probe, staff)
    case = filed[3]
    go_to(page, case.lon, case.lat, 18)
    box = page.locator("#gc-cmap-map").bounding_box()
    point = page.evaluate("([lat, lon]) => window.gridmap.map.latLngToContainerPoint([lat, lon])",
                          [case.lat, case.lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(f'.leaflet-popup .gc-cmap-pop[data-case-id="{case.id}"]')
    popup.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("(text) => document.querySelector('.gc-cmap-pop-text').textContent === text",
                           arg=DESCRIPTION, timeout=TIMEOUT_MS)
    assert "已上报" in popup.inner_text()
    assert popup.locator(".gc-cmap-pop-category").inner_text() in ("供暖", "市容环境")
    link = popup.locator("a.gc-cmap-open")
    assert link.get_attribute("href") == f"/cases/{case.id}"
    probe.screenshot("case-map-popup")
    link.click()
    page.wait_for_selector('body[data-case-state="reported"]', timeout=TIMEOUT_MS)
    assert page.url.endswith(f"/cases/{case.id}")


def test_heatmap_toggle_and_filters(probe: PageProbe, filed: list[Filed],
                                    staff: TestAccount) -> None:
    page = open_map(probe, staff)
    lon, lat = centre(filed)
    go_to(page, lon, lat, 13)
    page.wait_for_selector(".marker-cluster", timeout=TIMEOUT_MS)
    page.click("#gc-cmap-heat")
    page.wait_for_selector("canvas.leaflet-heatmap-layer", timeout=TIMEOUT_MS)
    assert page.get_attribute("#gc-cmap-heat", "aria-pressed") == "true"
    assert page.locator(".marker-cluster").count() == 0
    painted = page.evaluate("""() => {
        const c = document.querySelector('canvas.leaflet-heatmap-layer');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert painted > 100, "the heatmap canvas is empty"
    probe.screenshot("case-map-heat")
    page.click("#gc-cmap-heat")
    page.wait_for_selector(".marker-cluster", timeout=TIMEOUT_MS)
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 0

    # Only dispatched cases: ours is the only one near here in that state.
    page.check('input[name=state][value="dispatched"]')
    page.wait_for_function("() => window.gridmap.isIdle() && window.location.search.includes("
                           "'state=dispatched')", timeout=TIMEOUT_MS)
    states = page.evaluate("() => [...new Set(window.gridmap.state.rows.map(r => r[3]))]")
    assert states == ["dispatched"]
    probe.screenshot("case-map-filtered")


def test_english_and_phone(browser: Any, live_server: str, phone_probe: PageProbe,
                           filed: list[Filed], staff: TestAccount) -> None:
    page = open_map(phone_probe, staff, "?lang=en")
    assert page.title().startswith("Case map")
    assert page.locator("#gc-cmap-heat").inner_text() == "Heatmap"
    assert page.locator("#gc-cmap-count").inner_text().startswith("Showing ")
    assert page.locator("#gc-cmap-panel").get_attribute("open") is None
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    phone_probe.screenshot("case-map-phone-en")
    page.click("#gc-cmap-panel summary")
    phone_probe.screenshot("case-map-phone-filters")
