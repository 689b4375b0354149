"""The coverage page in a real browser: bands on the map, histogram, community table, catchments.

Runs against the live test app (real PostGIS, 沈河区), offline-guarded. A 5-minute run of the
elder-care stations is computed and committed for the module (the live server reads through its
own connections) and deleted afterwards. Screenshots go to test-artifacts/coverage-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import PageProbe
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 20_000
TYPE, CIRCLE = "elder_care_station", "5min"


@pytest.fixture(scope="module")
def facility(engine: Engine) -> Iterator[tuple[float, float]]:
    """A committed run; yields the position of one facility of the type."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM facility WHERE type = :t ORDER BY id LIMIT 1"),
            {"t": TYPE}).one()
    yield float(lon), float(lat)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


def wait_idle(page: Any) -> None:
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def open_page(probe: PageProbe, query: str) -> Any:
    page = probe.page
    page.goto("/coverage" + query)
    wait_idle(page)
    page.wait_for_timeout(400)
    wait_idle(page)
    assert page.locator("#gcv-status[data-kind='error']").count() == 0, \
        page.locator("#gcv-status").inner_text()
    return page


def go_to(page: Any, lon: float, lat: float, zoom: int) -> None:
    page.evaluate("([lat, lon, zoom]) => window.gridmap.map.setView([lat, lon], zoom, {animate: false})",
                  [lat, lon, zoom])
    page.wait_for_timeout(400)  # the debounced refresh starts after 200 ms
    wait_idle(page)


def test_overview_table_and_histogram(probe: PageProbe, facility: tuple[float, float]) -> None:
    page = open_page(probe, f"?type={TYPE}&circle={CIRCLE}")
    assert page.title().startswith("覆盖分析")
    page.locator("#gcv-table tbody tr").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gcv-table tbody tr").count() > 10
    assert page.locator("#gcv-t-elderly").inner_text().endswith("%")
    bars = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('gcv-chart'))"
                         ".getOption().series[0].data.length")
    assert bars == 21
    assert page.locator("#gcv-chart canvas").count() >= 1
    assert page.locator("path.gcv-area").count() > 10  # community choropleth
    # Headline figures say what they cover (the planner's district), the choropleth has a legend.
    assert page.locator("#gcv-scope").inner_text() == "以下数字的统计范围：沈河区"
    legend = page.locator("#gcv-choro-legend li")
    assert legend.count() == 7 and "≥ 90%" in legend.nth(1).inner_text()
    assert legend.last.inner_text() == "无数据"
    probe.screenshot("coverage-overview")
    # Area names on the map once zoomed in far enough to read them.
    assert page.locator(".gcv-label").count() == 0
    go_to(page, *facility, 14)
    page.locator(".gcv-label").first.wait_for(timeout=TIMEOUT_MS)
    names = page.locator(".gcv-label span").all_inner_texts()
    assert names and all(n.endswith("社区") for n in names), names
    probe.screenshot("coverage-labels")


def test_buildings_coloured_and_catchments(probe: PageProbe,
                                           facility: tuple[float, float]) -> None:
    page = open_page(probe, f"?type={TYPE}&circle={CIRCLE}")
    go_to(page, *facility, 16)
    covered = page.locator("path.gcv-b-covered")
    covered.first.wait_for(timeout=TIMEOUT_MS)
    fill = covered.first.evaluate("n => n.getAttribute('fill')")
    assert fill == "#2e9d4f"
    assert page.locator("path.gcv-b-near_miss, path.gcv-b-far").count() > 0
    probe.screenshot("coverage-buildings")
    page.locator("#gcv-catchments").check()
    page.locator("path.gcv-catchment").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.locator("path.gcv-catchment").count() > 0
    probe.screenshot("coverage-catchments")
    covered.first.hover(force=True)
    page.locator(".leaflet-tooltip").first.wait_for(timeout=TIMEOUT_MS)
    assert "步行距离" in page.locator(".leaflet-tooltip").first.inner_text()
    # The bands come from the run's vector tiles (one SVG per tile), and a click still opens
    # the building's popup.
    assert page.locator(".leaflet-gcv-buildings-pane svg.leaflet-tile path.gcv-b").count() > 0
    covered.first.click(force=True)
    page.locator(".leaflet-popup .gcv-pop").wait_for(timeout=TIMEOUT_MS)
    assert "步行距离" in page.locator(".leaflet-popup .gcv-pop").inner_text()
    probe.screenshot("coverage-building-popup")


def test_table_row_zooms_to_community(probe: PageProbe, facility: tuple[float, float]) -> None:
    page = open_page(probe, f"?type={TYPE}&circle={CIRCLE}")
    before = page.evaluate("() => window.gridmap.map.getZoom()")
    page.locator("#gcv-table tbody tr").first.click()
    wait_idle(page)
    assert page.evaluate("() => window.gridmap.map.getZoom()") > before


def test_english(probe: PageProbe, facility: tuple[float, float]) -> None:
    page = open_page(probe, f"?type={TYPE}&circle={CIRCLE}&lang=en")
    assert page.title().startswith("Coverage")
    page.locator("#gcv-table tbody tr").first.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("coverage-en")


def test_the_public_is_sent_to_sign_in_and_back(browser: Any, live_server: str,
                                                planner_account: Any) -> None:
    from e2e_support import open_probe

    with open_probe(browser, live_server) as public:
        page = public.page
        page.goto(f"/coverage?type={TYPE}&circle={CIRCLE}")
        assert "/login" in page.url and page.locator("#gm-sign-in").count() == 1
        page.locator("#gm-username").fill(planner_account.username)
        page.locator("#gm-password").fill(planner_account.password)
        with page.expect_navigation(timeout=TIMEOUT_MS):
            page.locator("#gm-sign-in").click()
        assert "/coverage" in page.url and page.title().startswith("覆盖分析")
        assert page.locator("#gcv-plan").count() == 1  # a planner's page has the planning tools
