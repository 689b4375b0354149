"""Editing facilities on the map in Chromium (Leaflet-Geoman): a data officer adds one by
placing a marker, renames one by clicking it, and retires it; each save reaches the database
and the list of recent changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import open_probe
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 30_000


@pytest.fixture
def officer(engine: Engine) -> Iterator[Account]:
    account = make_account(engine, "data_officer", area_code="210103")
    yield account
    remove_accounts(engine, [account])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM data_change WHERE changed_by = :u"),
                     {"u": account.username})


def _idle(page: Any) -> None:
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def test_add_rename_and_retire_a_facility_on_the_map(browser: Any, live_server: str,
                                                     officer: Account, engine: Engine) -> None:
    with engine.connect() as conn:
        x, y = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), "
                                 "ST_Y(ST_PointOnSurface(geom)) FROM community "
                                 "ORDER BY code LIMIT 1")).one()
    added_code = None
    try:
        with open_probe(browser, live_server) as probe:
            page = probe.page
            page.on("dialog", lambda dialog: dialog.accept())
            sign_in(page, officer, next_path="/data/edit")
            _idle(page)
            page.evaluate("([lat, lon]) => window.gridmap.map.setView([lat, lon], 17, "
                          "{animate: false})", [y, x])
            page.wait_for_timeout(400)
            _idle(page)
            # Add: the marker tool, then a click on the map's centre.
            page.locator(".leaflet-pm-icon-marker").click()
            box = page.locator("#gdx-edit-map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.locator("#gdx-f-form:not([hidden])").wait_for(timeout=TIMEOUT_MS)
            page.locator("#gdx-f-type").select_option("pocket_park")
            page.locator("#gdx-f-name").fill("测试口袋公园")
            page.locator("#gdx-f-save").click()
            page.wait_for_function("() => document.getElementById('gdx-f-status').dataset.kind"
                                   " === 'ok'", timeout=TIMEOUT_MS)
            with engine.connect() as conn:
                added_code = conn.execute(text("SELECT code FROM facility WHERE name = "
                                               "'测试口袋公园'")).scalar_one()
            probe.screenshot("edit-facility-added")
            # Rename: click the new marker, change the name, save.
            page.locator(".gdx-marker[title='测试口袋公园']").click()
            page.locator("#gdx-f-name").fill("改名口袋公园")
            page.locator("#gdx-f-save").click()
            page.wait_for_function("() => document.querySelector("
                                   "\".gdx-marker[title='改名口袋公园']\")", timeout=TIMEOUT_MS)
            # Retire it (the page asks first; the test accepts).
            page.locator(".gdx-marker[title='改名口袋公园']").click()
            page.locator("#gdx-f-retire").click()
            page.wait_for_function("() => document.getElementById('gdx-f-status').textContent"
                                   ".startsWith('已撤销')", timeout=TIMEOUT_MS)
            page.wait_for_function("() => document.querySelectorAll('#gdx-history li').length"
                                   " >= 3", timeout=TIMEOUT_MS)
            assert "撤销" in page.locator("#gdx-history li").first.inner_text()
            probe.screenshot("edit-facility-history")
        with engine.connect() as conn:
            ops = conn.execute(text("SELECT op FROM data_change WHERE code = :c ORDER BY id"),
                               {"c": added_code}).scalars().all()
            assert ops == ["add", "update", "retire"]
            assert conn.execute(text("SELECT count(*) FROM facility WHERE code = :c"),
                                {"c": added_code}).scalar_one() == 0
    finally:
        if added_code:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM facility WHERE code = :c"), {"c": added_code})
