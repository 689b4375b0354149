"""The grid worker's visit page on a phone (real Chromium, live server, real PostGIS): the
register of their grid, a visit saved with the phone's location, flagged when far from the
building; in Chinese and in English."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e_support import Accounts, TestAccount, open_probe, sign_in
from sqlalchemy import Engine, text

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def resident(engine: Engine, owner_engine: Engine, accounts: Accounts) -> Iterator[dict[str, Any]]:
    """A committed register entry in a grid worker's grid, and that worker's account; removed
    (with its visits) afterwards."""
    with engine.begin() as conn:
        row = conn.execute(text("""
            SELECT m.person_id, b.id AS building_id, b.grid_code,
                   ST_X(ST_PointOnSurface(b.geom)) AS lon, ST_Y(ST_PointOnSurface(b.geom)) AS lat
            FROM grid_member m JOIN building b ON b.grid_code = m.grid_code
            WHERE m.role = 'grid_worker'
              AND NOT EXISTS (SELECT 1 FROM account a WHERE a.person_id = m.person_id)
            ORDER BY m.grid_code DESC, b.id LIMIT 1""")).mappings().one()
        name = f"关爱{uuid.uuid4().hex[:6]}"
        entry_id = conn.execute(text("""
            INSERT INTO care_entry (building_id, name, phone, unit, household, created_by)
            VALUES (:b, :n, '13700009999', '1单元', '302', :p) RETURNING id"""),
            {"b": row["building_id"], "n": name, "p": row["person_id"]}).scalar_one()
        conn.execute(text("INSERT INTO care_entry_reason VALUES (:e, 'living_alone'), "
                          "(:e, 'aged_80_plus')"), {"e": entry_id})
    worker: TestAccount = accounts.create("grid_worker", person_id=row["person_id"])
    try:
        yield {**row, "entry_id": entry_id, "name": name, "account": worker}
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM care_visit WHERE entry_id = :e"), {"e": entry_id})
            conn.execute(text("DELETE FROM care_entry WHERE id = :e"), {"e": entry_id})


@pytest.mark.parametrize(("locale", "saved", "far"), [
    ("zh-CN", "走访已保存", "距楼院较远"), ("en", "Visit saved", "far from the building")])
def test_a_worker_logs_a_visit_on_the_phone(browser: Any, live_server: str, engine: Engine,
                                            resident: dict[str, Any], locale: str, saved: str,
                                            far: str) -> None:
    # The phone is ~800 m east of the building: the visit is saved and flagged.
    place = {"longitude": resident["lon"] + 0.01, "latitude": resident["lat"]}
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, locale=locale, geolocation=place,
                    permissions=["geolocation"]) as probe:
        page = probe.page
        sign_in(page, resident["account"], next_path="/care/visits" + (
            "?lang=en" if locale == "en" else ""))
        card = page.locator(f'[data-entry-id="{resident["entry_id"]}"]')
        card.wait_for(timeout=TIMEOUT_MS)
        assert resident["name"] in card.inner_text()
        card.locator("summary").click()
        card.locator("textarea").fill("身体状况良好")
        card.locator("button[type=submit]").click()
        result = card.locator(".gc-care-result")
        page.wait_for_function("([el, t]) => el.textContent.includes(t)",
                               arg=[result.element_handle(), saved], timeout=TIMEOUT_MS)
        assert far in result.inner_text()
        probe.screenshot(f"care-visits-{locale}")
    with engine.connect() as conn:
        visit = conn.execute(text("SELECT far, findings, distance_m FROM care_visit "
                                  "WHERE entry_id = :e ORDER BY id DESC LIMIT 1"),
                             {"e": resident["entry_id"]}).one()
    assert visit.far is True and visit.findings == "身体状况良好" and visit.distance_m > 500


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_needs_help_turns_into_a_case_in_one_step(browser: Any, live_server: str, engine: Engine,
                                                  resident: dict[str, Any], locale: str) -> None:
    """The worker ticks "needs help" on the phone: one visit, one case (channel
    proactive_visit) linked from it, opened from the visit's answer, and in the case list; a
    second press of the same form (a retry) makes neither a second visit nor a second case."""
    place = {"longitude": resident["lon"], "latitude": resident["lat"]}
    lang = "?lang=en" if locale == "en" else ""
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, locale=locale, geolocation=place,
                    permissions=["geolocation"]) as probe:
        page = probe.page
        sign_in(page, resident["account"], next_path="/care/visits" + lang)
        card = page.locator(f'[data-entry-id="{resident["entry_id"]}"]')
        card.wait_for(timeout=TIMEOUT_MS)
        card.locator("summary").click()
        card.locator("textarea").fill("暖气不热，老人腿脚不便需要帮助")
        card.locator("input[name=needs_help]").check()
        card.locator("select[name=category]").select_option("heating")
        token = card.locator("form").get_attribute("data-token")
        card.locator("button[type=submit]").click()
        link = card.locator(".gc-care-result a.gc-care-case")
        link.wait_for(timeout=TIMEOUT_MS)
        probe.screenshot(f"care-needs-help-{locale}")
        case_id = int(link.get_attribute("href").rsplit("/", 1)[1])
        # The phone re-sends the same visit (same token): the first one comes back.
        again = page.evaluate("""async ([entry, token]) => {
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch('/api/care/entries/' + entry + '/visits', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
              body: JSON.stringify({findings: '重发', needs_help: true, category: 'heating',
                                    client_token: token})});
            return [r.status, await r.json()];
        }""", [resident["entry_id"], token])
        assert again[0] == 200 and again[1]["case_id"] == case_id and again[1]["existing"]
        link.click()
        page.wait_for_url(f"**/cases/{case_id}*", timeout=TIMEOUT_MS)
        page.locator("text=暖气不热").first.wait_for(timeout=TIMEOUT_MS)
        page.goto("/cases" + lang)
        page.locator(f'a[href$="/cases/{case_id}"]').first.wait_for(timeout=TIMEOUT_MS)
        probe.screenshot(f"care-needs-help-case-list-{locale}")
    with engine.connect() as conn:
        visits = conn.execute(text("SELECT case_id FROM care_visit WHERE entry_id = :e "
                                   "AND client_token = :t"),
                              {"e": resident["entry_id"], "t": token}).scalars().all()
        channel = conn.execute(text('SELECT channel FROM "case" WHERE id = :i'),
                               {"i": case_id}).scalar_one()
    assert visits == [case_id] and channel == "proactive_visit"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_worker_files_the_zero_report_on_the_phone(
        browser: Any, live_server: str, engine: Engine, owner_engine: Engine,
        resident: dict[str, Any], locale: str) -> None:
    """From the visits page to the grid's month: the report is refused while an entry is
    pending (the refusal names it, clearly, in the page), the worker explains it, and files the
    report with the explicit "no new difficulty found" answer."""
    from gridmap.care.rules import this_month

    month = this_month(datetime.now(UTC))
    name = f"待访{uuid.uuid4().hex[:6]}"
    with engine.begin() as conn:
        pending = conn.execute(text("""
            INSERT INTO care_entry (building_id, name, created_by, created_at)
            VALUES (:b, :n, :p, now() - interval '40 days') RETURNING id"""),
            {"b": resident["building_id"], "n": name, "p": resident["person_id"]}).scalar_one()
        conn.execute(text("INSERT INTO care_entry_reason VALUES (:e, 'empty_nest')"),
                     {"e": pending})
        # The module's resident may not have been visited yet (tests run alone): explain it.
        conn.execute(text("""INSERT INTO care_explanation (entry_id, month, reason, explained_by)
            VALUES (:e, :m, '外出', :p) ON CONFLICT DO NOTHING"""),
            {"e": resident["entry_id"], "m": month, "p": resident["person_id"]})
    try:
        with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                        is_mobile=True, has_touch=True, locale=locale) as probe:
            page = probe.page
            sign_in(page, resident["account"], next_path="/care/visits" + (
                "?lang=en" if locale == "en" else ""))
            page.locator("#gc-care-months a").first.click()
            page.wait_for_url(f"**/care/grids/{resident['grid_code']}/month*",
                              timeout=TIMEOUT_MS)
            entry = page.locator(f'#gcm-entries [data-entry-id="{pending}"]')
            entry.wait_for(timeout=TIMEOUT_MS)
            page.locator("#gcm-report-form input[value=none]").check()
            page.locator("#gcm-report-form button").click()
            refusal = page.locator("#gcm-report-result.gc-error")
            refusal.wait_for(timeout=TIMEOUT_MS)
            assert name in refusal.inner_text()
            # The browser logs the 409 itself; the page showed it as a message.
            probe.console_errors[:] = [e for e in probe.console_errors if "409" not in e]
            probe.screenshot(f"care-month-refused-{locale}")
            entry.locator(".gcm-explain summary").click()
            entry.locator(".gcm-explain textarea").fill("住院")
            entry.locator(".gcm-explain button").click()
            page.wait_for_function(
                "id => document.querySelector(`#gcm-entries [data-entry-id='${id}']`)"
                "?.dataset.status === 'explained'", arg=pending, timeout=TIMEOUT_MS)
            page.locator("#gcm-report-form input[value=none]").check()
            page.locator("#gcm-report-form button").click()
            page.locator("#gcm-report-state.gcm-filed").wait_for(timeout=TIMEOUT_MS)
            assert page.locator("#gcm-report-form").is_hidden()
            probe.screenshot(f"care-month-filed-{locale}")
        with engine.connect() as conn:
            filed = conn.execute(text("SELECT no_new_difficulty FROM care_zero_report "
                                      "WHERE grid_code = :g AND month = :m"),
                                 {"g": resident["grid_code"], "m": month}).scalar_one()
        assert filed is True
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM care_zero_report WHERE grid_code = :g AND month = :m"),
                         {"g": resident["grid_code"], "m": month})
            conn.execute(text("DELETE FROM care_explanation WHERE entry_id IN (:e, :r)"),
                         {"e": pending, "r": resident["entry_id"]})
            conn.execute(text("DELETE FROM care_entry WHERE id = :e"), {"e": pending})
