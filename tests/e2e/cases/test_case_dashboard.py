"""The statistics dashboard (统计分析) in a real browser, offline: KPI cards, ECharts charts from
/vendor, the children ranking.

The live server commits, so the test files its own cases through the API (as the grid's worker)
in a grid that had none, and looks at that grid (and its community) only, signed in as the
district command centre of 沈河区. Screenshots go to test-artifacts/
(dashboard-*.png); look at them, passing is not enough.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.request import Request, urlopen

import pytest
from e2e_support import Accounts, PageProbe, TestAccount, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
CATEGORIES = ("heating", "heating", "water_supply", "gas")
TEST_DISTRICT = "210103"

# A grid with a worker and no case yet, and a point ≥ 25 m inside it and away from other grids.
_GRID_SQL = text("""
    SELECT g.code, ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat, w.person_id AS worker_id
    FROM grid g
    CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS pt) p
    JOIN grid_member w ON w.grid_code = g.code AND w.role = 'grid_worker'
    WHERE NOT EXISTS (SELECT 1 FROM "case" k WHERE k.grid_code = g.code)
      AND NOT ST_DWithin(ST_Boundary(g.geom)::geography, p.pt::geography, 25)
      AND NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code
                      AND ST_DWithin(o.geom::geography, p.pt::geography, 25))
    ORDER BY g.code DESC
    LIMIT 1
""")


def post_case(base_url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = Request(f"{base_url}/api/cases", data=json.dumps(body).encode(), method="POST",
                      headers={"Content-Type": "application/json", **headers})
    with urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
        result: dict[str, Any] = json.load(response)
        return result


@pytest.fixture(scope="module")
def grid_with_cases(engine: Engine, live_server: str, accounts: Accounts) -> str:
    """A grid in which this test filed four cases (two of one category) just now."""
    with engine.connect() as conn:
        row = conn.execute(_GRID_SQL).mappings().first()
    assert row is not None, "no empty grid in the test data"
    worker = accounts.headers(accounts.create("grid_worker", person_id=int(row["worker_id"])))
    for i, category in enumerate(CATEGORIES):
        post_case(live_server, {
            "category": category, "channel": "grid_patrol",
            "description": f"统计分析测试案件 {i}", "lon": float(row["lon"]) + i * 1e-5,
            "lat": float(row["lat"]), "crs": "wgs84", "grid_code": row["code"], "confirm_new": True,
            "client_token": f"dashboard-e2e-{uuid.uuid4()}"}, worker)
    return str(row["code"])


@pytest.fixture(scope="module")
def centre(accounts: Accounts) -> TestAccount:
    """The district command centre of 沈河区 (statistics for the whole district)."""
    return accounts.create("district_centre", name="区指挥中心值班员", area_code=TEST_DISTRICT)


def open_dashboard(probe: PageProbe, query: str, account: TestAccount) -> Any:
    page = probe.page
    sign_in(page, account, next_path=f"/cases/dashboard?{query}")
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    return page


def chart_total(page: Any, element_id: str) -> float:
    """The sum of the first series' data as ECharts holds it (proves the chart got the figures)."""
    return float(page.evaluate("""(id) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById(id));
        return chart.getOption().series[0].data.reduce((a, v) => a + (v || 0), 0);
    }""", element_id))


def test_grid_dashboard_draws_kpis_and_charts(probe: PageProbe, grid_with_cases: str,
                                              centre: TestAccount) -> None:
    page = open_dashboard(probe, f"level=grid&code={grid_with_cases}", centre)
    cards = page.locator("#gd-kpis .gd-kpi")
    assert cards.count() == 8
    assert page.locator('.gd-kpi[data-metric="cases"] .gd-kpi-value').inner_text() == "4"
    assert page.locator('.gd-kpi[data-metric="resolution_rate"] .gd-kpi-value').inner_text() == "0%"
    assert page.locator("#gd-path a").count() == 3          # district › sub-district › community
    for chart_id in ("gd-chart-months", "gd-chart-categories"):
        assert page.locator(f"#{chart_id} canvas").count() >= 1
        assert chart_total(page, chart_id) == 4
    top = page.evaluate("""() => window.echarts.getInstanceByDom(
        document.getElementById('gd-chart-categories')).getOption().yAxis[0].data""")
    assert top[-1] == "供暖"                                  # the most frequent is drawn on top
    assert page.locator("#gd-states .gc-badge").first.inner_text() == "已上报"
    assert page.locator("#gd-children-card").is_hidden()     # a grid has no children
    probe.screenshot("dashboard-grid")


def test_community_ranking_sorts_and_drills_down(probe: PageProbe, grid_with_cases: str,
                                                 centre: TestAccount) -> None:
    page = open_dashboard(probe, f"level=community&code={grid_with_cases[:12]}", centre)
    row = page.locator(f'#gd-children-rows tr[data-code="{grid_with_cases}"]')
    assert row.locator('td[data-metric="cases"]').inner_text() == "4"
    page.locator("#gd-children-head button", has_text="上报量").click()   # toggles to ascending
    page.locator("#gd-children-head button", has_text="上报量").click()   # back to descending
    first = page.locator("#gd-children-rows tr").first
    assert int(first.locator('td[data-metric="cases"]').inner_text()) >= 4
    probe.screenshot("dashboard-community")
    row.locator("th a").click()
    page.wait_for_url(f"**code={grid_with_cases}**", timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    assert page.locator('.gd-kpi[data-metric="cases"] .gd-kpi-value').inner_text() == "4"


def test_english_district_dashboard(probe: PageProbe, grid_with_cases: str,
                                    centre: TestAccount) -> None:
    page = open_dashboard(probe, "level=district&code=210103&lang=en", centre)
    assert page.locator("h1").inner_text() == "Statistics"
    assert page.locator('.gd-kpi[data-metric="satisfaction_rate"] .gd-kpi-label').inner_text() == \
        "Satisfaction rate"
    assert page.locator("#gd-children-rows tr").count() == 11              # 沈河区's sub-districts
    assert chart_total(page, "gd-chart-months") >= 4
    probe.screenshot("dashboard-district-en")
