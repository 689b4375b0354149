"""The case board and the dashboard made for their users (issue 12, items 3 and 8), in a real
browser: on a phone, cards with text search and quick filters; on a desktop, the area picked by
name; the dashboard opening on a unit with cases.

The live server commits, so the test files its own cases (with a unique word) through the API.
Screenshots go to test-artifacts/ (board-*.png, dashboard-home-*.png); look at them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.request import Request, urlopen

import pytest
from case_people import Cast, Spot
from e2e_support import Accounts, PageProbe, TestAccount, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
CATEGORY = "heating"
TOUCH_PX = 44


def post_case(base_url: str, headers: dict[str, str], spot: Spot, description: str,
              shift: float = 0.0) -> int:
    """A case filed through the JSON API as ``headers``' account, at the spot; its id."""
    body = {"category": CATEGORY, "channel": "grid_patrol", "description": description,
            "lon": spot.lon + shift, "lat": spot.lat, "crs": "wgs84", "grid_code": spot.grid_code,
            "confirm_new": True, "client_token": f"board-e2e-{uuid.uuid4()}"}
    request = Request(f"{base_url}/api/cases", data=json.dumps(body).encode(), method="POST",
                      headers={"Content-Type": "application/json", **headers})
    with urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
        return int(json.load(response)["case_id"])




@pytest.fixture(scope="module")
def word() -> str:
    """A word only this module's cases hold."""
    return f"看板{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def filed(live_server: str, accounts: Accounts, spot: Spot, cast: Cast, word: str) -> list[int]:
    """Two cases with ``word`` in the spot's grid, filed by its worker and by the community."""
    return [post_case(live_server, accounts.headers(cast.worker), spot, f"{word} 暖气不热"),
            post_case(live_server, accounts.headers(cast.community), spot,
                      f"楼道暖气漏水（{word}）", shift=2e-5)]


def wait_idle(page: Any) -> None:
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def shown_cards(page: Any) -> list[int]:
    return [int(x) for x in page.locator("#gc-board-cards li").evaluate_all(
        "(items) => items.map((li) => li.dataset.caseId)")]


def test_phone_board_cards_search_and_quick_filter(phone_probe: PageProbe, cast: Cast,
                                                    filed: list[int], word: str) -> None:
    page = phone_probe.page
    sign_in(page, cast.worker, next_path="/cases")
    wait_idle(page)
    assert page.locator("#gc-board-table").is_hidden()            # cards, not the wide table
    assert page.locator("#gc-more-filters").is_hidden()           # filters folded
    assert page.locator("#gc-filters-toggle").is_visible()
    page.fill("input[name=q]", word)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(f'#gc-board-cards li[data-case-id="{filed[1]}"]', timeout=TIMEOUT_MS)
    wait_idle(page)
    assert sorted(shown_cards(page)) == sorted(filed)
    assert f"q={word}" in page.url or "q=%E7%9C%8B" in page.url
    height = page.locator(f'#gc-board-cards li[data-case-id="{filed[0]}"] a').bounding_box()["height"]
    assert height >= TOUCH_PX, height
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width                                     # nothing wider than the phone
    phone_probe.screenshot("board-phone-search")
    page.check("input[name=my_cases]")          # the worker filed one and owns both (grid-kept)
    page.wait_for_url("**my_cases=1**", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert sorted(shown_cards(page)) == sorted(filed)
    page.check("input[name=overdue]")                              # just filed: none is overdue
    page.wait_for_url("**overdue=1**", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert shown_cards(page) == []
    assert page.locator("#gc-board-empty").is_visible()
    phone_probe.screenshot("board-phone-my-cases")
    page.click("#gc-filters-toggle")
    assert page.locator("#gc-f-area").is_visible()
    phone_probe.screenshot("board-phone-filters-open")


def test_desktop_area_picked_by_name_filters_the_board(probe: PageProbe, engine: Engine,
                                                       spot: Spot, cast: Cast,
                                                       filed: list[int]) -> None:
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM community WHERE code = :c"),
                            {"c": spot.community_code}).scalar_one()
    page = probe.page
    sign_in(page, cast.community, next_path="/cases")
    wait_idle(page)
    page.fill("#gc-f-area", "12345")                                # not a pick: a clear message
    page.press("#gc-f-area", "Escape")
    page.click("#gc-filters button[type=submit]")
    assert "不是列表中的单位" in page.locator("#gc-board-error").inner_text()
    page.fill("#gc-f-area", name)
    option = page.locator(f'.gm-picker-option[data-code="{spot.community_code}"]')
    option.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("board-desktop-area-picker")
    option.click()
    page.wait_for_url(f"**community={spot.community_code}**", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.locator("#gc-board-error").is_hidden()
    assert page.input_value("#gc-f-area") == name
    cells = page.locator("#gc-board-rows tr td:nth-child(5) .gc-grid-name")
    grids = [(cells.nth(i).inner_text(), cells.nth(i).get_attribute("title") or "")
             for i in range(cells.count())]  # "community · grid" by name, the code as its title
    assert grids and all(text.startswith(f"{name} · ") and code.startswith(spot.community_code)
                         for text, code in grids), grids
    assert page.locator(f'#gc-board-rows tr[data-case-id="{filed[0]}"]').count() == 1
    probe.screenshot("board-desktop-area-picked")
    page.reload()                                                   # the URL's code shows by name
    wait_idle(page)
    page.wait_for_function(f"() => document.getElementById('gc-f-area').value === {json.dumps(name)}",
                           timeout=TIMEOUT_MS)


def open_dashboard(probe: PageProbe, account: TestAccount) -> Any:
    page = probe.page
    sign_in(page, account, next_path="/cases/dashboard")
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    return page


def test_dashboard_opens_on_the_busiest_unit(probe: PageProbe, engine: Engine,
                                             accounts: Accounts, filed: list[int]) -> None:
    with engine.connect() as conn:
        busiest = conn.execute(text("""SELECT district_code FROM "case" GROUP BY district_code
                                       ORDER BY count(*) DESC, district_code LIMIT 1""")).scalar_one()
    page = open_dashboard(probe, accounts.create("admin", name="市级管理员"))  # the whole city
    assert f"code={busiest}" in page.url, page.url
    assert int(page.locator('.gd-kpi[data-metric="cases"] .gd-kpi-value').inner_text()
               .replace(",", "")) > 0
    assert "显示案件最多的区" in page.locator("#gd-status").inner_text()  # says which, and why
    probe.screenshot("dashboard-home-city")
    centre = accounts.create("district_centre", name="和平区值班员", area_code="210102")  # no cases
    page = open_dashboard(probe, centre)
    assert "code=210102" in page.url, page.url
    assert "没有上报案件" in page.locator("#gd-status").inner_text()   # says so, in words
    probe.screenshot("dashboard-home-empty-district")


def test_case_map_area_picked_by_name(probe: PageProbe, engine: Engine, spot: Spot, cast: Cast,
                                      filed: list[int]) -> None:
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM community WHERE code = :c"),
                            {"c": spot.community_code}).scalar_one()
    page = probe.page
    sign_in(page, cast.community, next_path="/cases/map")
    wait_idle(page)
    page.fill("#gc-f-area", name)
    option = page.locator(f'.gm-picker-option[data-code="{spot.community_code}"]')
    option.wait_for(timeout=TIMEOUT_MS)
    option.click()
    page.wait_for_url(f"**community={spot.community_code}**", timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.locator("#gc-cmap-error").is_hidden()
    probe.screenshot("case-map-desktop-area-picked")
    page.fill("#gc-f-area", "没有这个社区")                        # not a pick: said in words
    page.press("#gc-f-area", "Escape")
    page.locator("#gc-cmap-filters input[name=overdue]").check()
    assert "不是列表中的单位" in page.locator("#gc-cmap-error").inner_text()


def test_phone_screens_fit(phone_probe: PageProbe, accounts: Accounts, cast: Cast,
                           filed: list[int]) -> None:
    """The case map and the dashboard at 390 px: nothing wider than the phone (screenshots)."""
    page = phone_probe.page
    sign_in(page, cast.community, next_path="/cases/map")
    wait_idle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone_probe.screenshot("case-map-phone")
    page.goto(page.url.split("/cases")[0] + "/cases/dashboard")
    wait_idle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone_probe.screenshot("dashboard-phone")
