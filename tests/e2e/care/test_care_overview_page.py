"""The zero-report overview for community staff (real Chromium, live server, real PostGIS): a
grid of their community that has not reported shows on the map and in the list, one that has
reported shows so, and a grid opens its month page, where staff explain a pending entry; on a
desktop and on a phone, in Chinese and in English."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e_support import Accounts, TestAccount, open_probe, sign_in
from sqlalchemy import Engine, text

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def community(engine: Engine, owner_engine: Engine, accounts: Accounts) -> Iterator[dict[str, Any]]:
    """A community with at least two grids: the first has filed this month's zero report, the
    second has not and holds a committed register entry; a community staff account. All
    removed afterwards."""
    from gridmap.care.rules import this_month

    month = this_month(datetime.now(UTC))
    with engine.begin() as conn:
        grids = conn.execute(text("""
            SELECT code FROM grid WHERE community_code = (
              SELECT g.community_code FROM grid g JOIN building b ON b.grid_code = g.code
              GROUP BY g.community_code HAVING count(DISTINCT g.code) >= 2
              ORDER BY g.community_code DESC LIMIT 1)
            ORDER BY code LIMIT 2""")).scalars().all()
        person = conn.execute(text("SELECT min(id) FROM person")).scalar_one()
        building = conn.execute(text("SELECT min(id) FROM building WHERE grid_code = :g"),
                                {"g": grids[1]}).scalar_one()
        name = f"关爱{uuid.uuid4().hex[:6]}"
        entry_id = conn.execute(text("""
            INSERT INTO care_entry (building_id, name, created_by, created_at)
            VALUES (:b, :n, :p, now() - interval '40 days') RETURNING id"""),
            {"b": building, "n": name, "p": person}).scalar_one()
        conn.execute(text("INSERT INTO care_entry_reason VALUES (:e, 'living_alone')"),
                     {"e": entry_id})
        report = conn.execute(text("""
            INSERT INTO care_zero_report (grid_code, month, no_new_difficulty, submitted_by)
            VALUES (:g, :m, true, :p) ON CONFLICT DO NOTHING RETURNING id"""),
            {"g": grids[0], "m": month, "p": person}).scalar()
    staff: TestAccount = accounts.create("community_staff", name="社区测试",
                                         area_code=grids[0][:12])
    try:
        yield {"reported": grids[0], "silent": grids[1], "entry_id": entry_id, "name": name,
               "account": staff, "month": month.strftime("%Y-%m")}
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM care_explanation WHERE entry_id = :e"), {"e": entry_id})
            conn.execute(text("DELETE FROM care_entry WHERE id = :e"), {"e": entry_id})
            if report is not None:
                conn.execute(text("DELETE FROM care_zero_report WHERE id = :i"), {"i": report})


@pytest.mark.parametrize(("locale", "viewport", "not_reported"), [
    ("zh-CN", {"width": 1280, "height": 860}, "未报告"),
    ("en", {"width": 1280, "height": 860}, "Not reported"),
    ("zh-CN", {"width": 390, "height": 844}, "未报告"),
])
def test_a_community_sees_a_grid_that_has_not_reported(
        browser: Any, live_server: str, community: dict[str, Any], locale: str,
        viewport: dict[str, int], not_reported: str) -> None:
    phone = viewport["width"] < 500
    with open_probe(browser, live_server, viewport=viewport, locale=locale,
                    is_mobile=phone, has_touch=phone) as probe:
        page = probe.page
        sign_in(page, community["account"], next_path="/care" + (
            "?lang=en" if locale == "en" else ""))
        silent = page.locator(f'#gcv-rows tr[data-grid="{community["silent"]}"]')
        silent.wait_for(timeout=TIMEOUT_MS)
        assert not_reported in silent.inner_text()
        reported = page.locator(f'#gcv-rows tr[data-grid="{community["reported"]}"]')
        assert "gcv-row-reported" in (reported.get_attribute("class") or "")
        assert "gcv-row-not_due" in (silent.get_attribute("class") or "")
        # On the map: one polygon per grid of the community, coloured by the report state.
        colours = page.evaluate("""() => Array.from(
            document.querySelectorAll('#gcv-map path.leaflet-interactive'))
            .map(p => p.getAttribute('fill'))""")
        rows = page.locator("#gcv-rows tr").count()
        assert len(colours) == rows and "#9e9e9e" in colours and "#2e7d32" in colours
        assert community["name"] not in page.content()  # counts only on the overview
        # The nav shows the overview link to staff.
        assert page.locator('.gm-nav a[href$="/care"]').count() == 1
        probe.screenshot(f"care-overview-{locale}-{'phone' if phone else 'desktop'}")
        if phone or locale == "en":
            return
        # Problems only keeps the silent grid and drops the reported one.
        page.locator("#gcv-problems").check()
        page.wait_for_function("g => !document.querySelector(`#gcv-rows tr[data-grid='${g}']`)",
                               arg=community["reported"], timeout=TIMEOUT_MS)
        assert silent.count() == 1
        # The grid opens its month page; staff explain the pending entry there.
        silent.locator("a").click()
        page.wait_for_url(f"**/care/grids/{community['silent']}/month*", timeout=TIMEOUT_MS)
        entry = page.locator(f'#gcm-entries [data-entry-id="{community["entry_id"]}"]')
        entry.wait_for(timeout=TIMEOUT_MS)
        assert entry.get_attribute("data-status") == "pending"
        assert community["name"] in entry.inner_text()
        entry.locator(".gcm-explain summary").click()
        entry.locator(".gcm-explain textarea").fill("住院治疗中")
        entry.locator(".gcm-explain button").click()
        page.wait_for_function(
            "id => document.querySelector(`#gcm-entries [data-entry-id='${id}']`)"
            "?.dataset.status === 'explained'", arg=community["entry_id"], timeout=TIMEOUT_MS)
        assert page.locator("#gcm-report-form").is_hidden()  # the worker files, not staff
        probe.screenshot("care-month-staff-zh-CN")
