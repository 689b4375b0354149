"""Signed-in case work in a real browser, as issue 8 asks for it.

A grid worker signs in on a phone and reports a case in their grid; the community dispatches it to
the department; the department signs in, finds it in its board queue, starts and resolves it; the
community verifies. A grid worker of another grid cannot open it (the API answers 404, the page
says so). The sign-in page itself: fits a phone, says when the password is wrong, and signing out
works. Screenshots go to test-artifacts/ (sign-in-*.png); look at them, passing is not enough.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from case_people import Cast, Spot
from e2e_support import Accounts, PageProbe, TestAccount, sign_in, sign_out, submit_sign_in

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
SIGN_IN_PAGE = re.compile(r"/login\?next=")     # the page sends the public there, and back
CATEGORY = "water_supply"           # 供水 → water
PHONE_WIDTH = 390
TOUCH_PX = 44
# Before accounts the header was two rows of 44 px touch targets (brand and languages, then the
# page links) plus its padding; the user menu must not add a third.
HEADER_MAX_PX = 2 * TOUCH_PX + 20




def without(errors: list[str], status: int) -> list[str]:
    """``errors`` minus Chrome's console line for an expected HTTP ``status``."""
    return [e for e in errors if f"status of {status}" not in e]


def header_height(page: Any) -> float:
    box = page.locator(".gm-header").bounding_box()
    assert box is not None
    return float(box["height"])


def go_to(page: Any, lon: float, lat: float, zoom: int) -> None:
    page.evaluate("([lat, lon, zoom]) => window.gridmap.map.setView([lat, lon], zoom, {animate: false})",
                  [lat, lon, zoom])
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def tap(page: Any, lon: float, lat: float) -> None:
    box = page.locator("#gc-map").bounding_box()
    point = page.evaluate("([lat, lon]) => window.gridmap.map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def act(page: Any, action: str, to_state: str, note: str = "") -> None:
    """Take ``action`` on the open case page and wait for ``to_state``."""
    page.locator(f"#gc-action-buttons .gc-action-{action}").click()
    page.locator("#gc-action-form").wait_for(state="visible", timeout=TIMEOUT_MS)
    if note:
        page.fill("#gc-action-form textarea[name=note]", note)
    page.locator("#gc-action-form").get_by_role("button", name="确认").click()
    page.wait_for_selector(f'body[data-case-state="{to_state}"]', timeout=TIMEOUT_MS)


def open_case(page: Any, case_id: int, state: str) -> None:
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector(f'body[data-case-state="{state}"]', timeout=TIMEOUT_MS)


def api_status(base_url: str, path: str, headers: dict[str, str]) -> int:
    try:
        with urlopen(Request(f"{base_url}/api/{path}", headers=headers), timeout=30) as response:
            return int(response.status)
    except HTTPError as exc:
        exc.close()
        return exc.code


def test_sign_in_page_fits_a_phone_and_says_when_the_password_is_wrong(
        phone_probe: PageProbe, cast: Cast) -> None:
    page = phone_probe.page
    page.goto("/login")
    assert page.title().startswith("登录")
    phone_probe.screenshot("sign-in-phone")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the sign-in page scrolls sideways on a phone ({width}px)"
    assert header_height(page) <= HEADER_MAX_PX
    for selector in ("#gm-username", "#gm-password", "#gm-sign-in"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= TOUCH_PX, (selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, (selector, box)

    page.fill("#gm-username", cast.worker.username)
    page.fill("#gm-password", "not-the-password")
    page.click("#gm-sign-in")
    error = page.locator(".gm-flash-error")
    error.wait_for(timeout=TIMEOUT_MS)
    assert "用户名或密码错误" in error.inner_text()
    assert page.input_value("#gm-username") == cast.worker.username
    assert page.input_value("#gm-password") == ""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    phone_probe.screenshot("sign-in-phone-wrong-password")
    phone_probe.console_errors[:] = without(phone_probe.console_errors, 401)

    page.goto("/login?lang=en")
    assert page.locator("h1").inner_text() == "Sign in"
    assert header_height(page) <= HEADER_MAX_PX
    phone_probe.screenshot("sign-in-phone-en")


def test_worker_reports_department_handles_community_verifies(
        phone_probe: PageProbe, probe: PageProbe, spot: Spot, cast: Cast) -> None:
    # The grid worker, on a phone: the intake page sends them to sign in, and back.
    phone = phone_probe.page
    phone.goto("/cases/new")
    phone.wait_for_url(SIGN_IN_PAGE, timeout=TIMEOUT_MS)
    submit_sign_in(phone, cast.worker)
    assert phone.url.endswith("/cases/new"), phone.url
    assert header_height(phone) <= HEADER_MAX_PX
    phone.wait_for_function("() => window.gridmap && window.gridmap.ready", timeout=TIMEOUT_MS)
    # The map opens on the worker's own grid.
    assert phone.evaluate("([lat, lon]) => window.gridmap.map.getBounds().contains([lat, lon])",
                          [spot.lat, spot.lon])
    phone.wait_for_function("() => document.querySelectorAll('#gc-category option').length > 1",
                            timeout=TIMEOUT_MS)
    go_to(phone, spot.lon, spot.lat, 17)
    tap(phone, spot.lon, spot.lat)
    phone.locator("#gc-place-result .gc-grid-name").wait_for(timeout=TIMEOUT_MS)
    phone.select_option("#gc-category", CATEGORY)
    phone.fill("#gc-description", "2 号楼停水两天，住户无法做饭。")
    phone.fill("#gc-reporter-phone", "13900001234")
    phone.click("#gc-submit")
    phone.wait_for_selector('body[data-case-state="reported"]', timeout=TIMEOUT_MS)
    case_id = int(phone.url.rstrip("/").rsplit("/", 1)[1])
    phone.wait_for_function("() => window.gridmap.map && window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    assert phone.locator("h1").inner_text().startswith(f"案件 {case_id}")
    assert "139****1234" in phone.locator("#gc-facts").inner_text()
    assert phone.locator("#gc-reveal-phone").is_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    phone_probe.screenshot("sign-in-flow-detail-phone")

    # The community dispatches it to the category's department (preselected).
    desk = probe.page
    sign_in(desk, cast.community, next_path=f"/cases/{case_id}")
    desk.wait_for_selector('body[data-case-state="reported"]', timeout=TIMEOUT_MS)
    act(desk, "dispatch", "dispatched")
    assert desk.locator("#gc-action-buttons .gc-action-reassign").is_visible()

    # The department finds it in its queue, starts and resolves it.
    sign_out(desk)
    sign_in(desk, cast.department)
    desk.goto("/cases?state=dispatched")
    row = desk.locator(f'tr[data-case-id="{case_id}"]')
    row.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("sign-in-flow-department-queue")
    row.locator("a").click()
    desk.wait_for_selector('body[data-case-state="dispatched"]', timeout=TIMEOUT_MS)
    act(desk, "start", "in_progress")
    act(desk, "resolve", "resolved", note="已抢修 2 号楼供水管道，恢复供水。")
    assert desk.locator("#gc-action-buttons .gc-no-actions").is_visible()
    probe.screenshot("sign-in-flow-department-resolved")

    # The community verifies.
    sign_out(desk)
    sign_in(desk, cast.community, next_path=f"/cases/{case_id}")
    desk.wait_for_selector('body[data-case-state="resolved"]', timeout=TIMEOUT_MS)
    act(desk, "verify", "verified")
    probe.screenshot("sign-in-flow-verified")

    # The worker's phone sees the case verified, with every step by the person who took it.
    open_case(phone, case_id, "verified")
    events = phone.locator("#gc-timeline .gc-event")
    actions = [events.nth(i).get_attribute("data-action") for i in range(events.count())]
    assert actions == ["report", "dispatch", "start", "resolve", "verify"]


def test_a_worker_of_another_grid_cannot_open_the_case(
        probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts, client: Any,
        live_server: str) -> None:
    response = client.post("/api/cases", headers=accounts.headers(cast.worker), data={
        "category": CATEGORY, "description": "另一网格不可见的案件", "lon": str(spot.lon),
        "lat": str(spot.lat), "client_token": str(uuid.uuid4()), "confirm_new": "1",
        "reporter_name": "赵先生", "reporter_phone": "13911112222"})
    assert response.status_code == 201, response.get_json()
    case_id = int(response.get_json()["case_id"])
    other: TestAccount = cast.other_worker
    assert api_status(live_server, f"cases/{case_id}", accounts.headers(other)) == 404
    assert api_status(live_server, f"cases/{case_id}", accounts.headers(cast.worker)) == 200

    page = probe.page
    sign_in(page, other)
    with page.expect_response(lambda r: r.url.endswith(f"/api/cases/{case_id}")) as answer:
        page.goto(f"/cases/{case_id}")
    assert answer.value.status == 404
    page.wait_for_selector('body[data-case-state="unavailable"]', timeout=TIMEOUT_MS)
    assert page.locator("#gc-load-error").is_visible()
    text = page.locator("main").inner_text()
    assert "另一网格不可见的案件" not in text and "赵先生" not in text
    assert not page.locator("#gc-actions-title").is_visible()
    probe.screenshot("sign-in-flow-other-worker")

    page.goto("/cases")    # their own board: the case is not in it
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    assert page.locator(f'tr[data-case-id="{case_id}"]').count() == 0
    probe.console_errors[:] = without(probe.console_errors, 404)


def test_an_ended_session_signs_in_again_and_sign_out_ends_it(probe: PageProbe,
                                                               cast: Cast) -> None:
    page = probe.page
    board = re.compile(r"/login\?next=(/|%2F)cases$")
    sign_in(page, cast.department, next_path="/cases")
    # Every answer renews the session cookie (idle timeout): let them all arrive first.
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    # The session ends behind the page's back (expired, or signed out elsewhere): the next API
    # call answers 401 and the page goes to the sign-in page, which brings it back.
    page.context.clear_cookies()
    page.locator("#gc-filters button[type=submit]").click()
    page.wait_for_url(board, timeout=TIMEOUT_MS)
    submit_sign_in(page, cast.department)
    assert page.url.endswith("/cases"), page.url
    page.locator("#gc-board-table").wait_for(timeout=TIMEOUT_MS)
    probe.console_errors[:] = without(probe.console_errors, 401)

    sign_out(page)
    assert page.locator("#gm-sign-in-link").is_visible()
    assert page.locator("#gm-user-menu").count() == 0
    page.goto("/cases")
    page.wait_for_url(board, timeout=TIMEOUT_MS)
