"""The case pages in a real browser: report by tapping the map, then the whole workflow loop,
each step by the person whose post it is, signed in through the real sign-in form.

Runs against the live test app (real PostGIS, 沈河区). Every step is photographed into
test-artifacts/ (cases-*.png); look at them, passing is not enough.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from case_people import Cast, Spot
from e2e_support import ARTIFACTS, Accounts, PageProbe, TestAccount, sign_in, sign_out, submit_sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
SIGN_IN_PAGE = re.compile(r"/login\?next=")     # the page sends the public there, and back
CATEGORY = "stairwell_lighting"     # 楼道照明 → 房产 (housing)
TOUCH_PX = 44


def api(base_url: str, path: str, headers: dict[str, str], **params: Any) -> Any:
    """GET a JSON document from the live server, as the account ``headers`` act for."""
    url = f"{base_url}/api/{path}" + (f"?{urlencode(params)}" if params else "")
    with urlopen(Request(url, headers=headers), timeout=30) as response:
        return json.load(response)




def go_to(page: Any, lon: float, lat: float, zoom: int) -> None:
    page.evaluate("([lat, lon, zoom]) => { window.gridmap.map.setView([lat, lon], zoom, "
                  "{animate: false}); }", [lat, lon, zoom])


def tap_map(page: Any, lon: float, lat: float, selector: str = "#gc-map") -> None:
    box = page.locator(selector).bounding_box()
    point = page.evaluate("([lat, lon]) => window.gridmap.map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def open_intake(probe: PageProbe, spot: Spot) -> Any:
    """The intake page, zoomed onto the spot with the basemap drawn."""
    page = probe.page
    page.goto("/cases/new")
    page.wait_for_function("() => window.gridmap && window.gridmap.ready", timeout=TIMEOUT_MS)
    page.wait_for_function("() => document.querySelectorAll('#gc-category option').length > 1",
                           timeout=TIMEOUT_MS)
    go_to(page, spot.lon, spot.lat, 17)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-gc-grids-pane path').length > 0",
                           timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    return page


def place_by_tap(page: Any, spot: Spot) -> None:
    tap_map(page, spot.lon, spot.lat)
    page.locator("#gc-place-result .gc-grid-name").wait_for(timeout=TIMEOUT_MS)


def as_person(page: Any, account: TestAccount, case_id: int) -> None:
    """Sign out, sign in as ``account`` and come back to the case (the sign-in page's ``next``)."""
    sign_out(page)
    sign_in(page, account, next_path=f"/cases/{case_id}")
    assert page.url.endswith(f"/cases/{case_id}"), page.url
    page.wait_for_selector("body[data-case-state]", timeout=TIMEOUT_MS)
    page.locator("#gc-action-buttons > *").first.wait_for(timeout=TIMEOUT_MS)


def act(page: Any, probe: PageProbe, action: str, to_state: str, shot: str,
        fill: dict[str, str] | None = None, rating: str | None = None) -> None:
    """Open ``action``'s form, fill it, confirm, and wait for ``to_state``."""
    button = page.locator(f"#gc-action-buttons .gc-action-{action}")
    button.wait_for(timeout=TIMEOUT_MS)
    button.click()
    form = page.locator("#gc-action-form")
    form.wait_for(state="visible", timeout=TIMEOUT_MS)
    for selector, value in (fill or {}).items():
        page.fill(f"#gc-action-form {selector}", value)
    probe.screenshot(f"cases-{shot}-form")
    if rating:
        form.locator("input[name=method][value=phone]").check()  # how it was obtained
        form.locator(f"button.gc-rating-{rating}").click()
    else:
        form.get_by_role("button", name="确认").click()
    page.wait_for_selector(f'body[data-case-state="{to_state}"]', timeout=TIMEOUT_MS)
    page.locator("#gc-action-message").wait_for(state="visible", timeout=TIMEOUT_MS)
    probe.screenshot(f"cases-{shot}")


def person_names(engine: Engine, *ids: int) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, name FROM person WHERE id = ANY(:ids)"),
                            {"ids": list(ids)}).all()
    return {int(r.id): str(r.name) for r in rows}


def test_report_by_tapping_the_map_and_run_the_whole_loop(
        probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts, engine: Engine,
        live_server: str) -> None:
    page = probe.page
    sign_in(page, cast.worker, next_path="/cases/new")
    page = open_intake(probe, spot)
    assert page.locator("#gc-actor").count() == 0, "the acting person is the signed-in one"
    probe.screenshot("cases-new-empty")
    place_by_tap(page, spot)
    assert spot.grid_code in page.locator("#gc-place-result").inner_text()
    page.select_option("#gc-category", CATEGORY)
    page.fill("#gc-description", "3 单元楼道声控灯不亮，夜间老人上下楼不便。")
    page.fill("#gc-reporter-name", "王女士")
    page.fill("#gc-reporter-phone", "13812345678")
    assert page.locator("#gc-description-count").inner_text().startswith("22/4000")
    probe.screenshot("cases-new-filled")

    page.click("#gc-submit")
    page.wait_for_url("**/cases/*", timeout=TIMEOUT_MS)
    page.wait_for_selector('body[data-case-state="reported"]', timeout=TIMEOUT_MS)
    assert "已上报" in page.locator("#gc-head-state").inner_text()
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.wait_for_function("() => window.gridmap.map && window.gridmap.isIdle()", timeout=TIMEOUT_MS)

    # The phone arrives masked; the grid worker may show it, and that view is recorded.
    facts = page.locator("#gc-facts")
    assert "13812345678" not in facts.inner_text()
    assert "138****5678" in facts.inner_text()
    probe.screenshot("cases-detail-reported")
    page.click("#gc-reveal-phone")
    page.locator("#gc-facts a.gc-tel").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gc-facts a.gc-tel").inner_text() == "13812345678"
    assert "本次查看已记录" in facts.inner_text()
    probe.screenshot("cases-detail-phone-revealed")
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'phone_revealed' "
                                   "AND account_id = :a AND target_id = :c"),
                              {"a": cast.worker.id, "c": str(case_id)}).scalar_one()
    assert logged == 1

    as_person(page, cast.community, case_id)
    act(page, probe, "dispatch", "dispatched", "detail-dispatched")
    detail = api(live_server, f"cases/{case_id}", accounts.headers(cast.community))
    assert detail["owner_department"] == spot.department
    assert "13812345678" not in json.dumps(detail, ensure_ascii=False)
    as_person(page, cast.department, case_id)
    act(page, probe, "start", "in_progress", "detail-started")
    act(page, probe, "resolve", "resolved", "detail-resolved",
        fill={"textarea[name=note]": "已更换 3 单元 1–6 层声控灯。"})
    as_person(page, cast.community, case_id)
    act(page, probe, "verify", "verified", "detail-verified")
    act(page, probe, "rate", "rated", "detail-rated", rating="satisfied")
    act(page, probe, "close", "closed", "detail-closed")

    events = page.locator("#gc-timeline .gc-event")
    actions = [events.nth(i).get_attribute("data-action") for i in range(events.count())]
    assert actions == ["report", "dispatch", "start", "resolve", "verify", "rate", "close"]
    names = person_names(engine, spot.worker_id, spot.staff_id, spot.secretary_id)
    who = [spot.worker_id, spot.secretary_id, spot.staff_id, spot.staff_id, spot.secretary_id,
           spot.secretary_id, spot.secretary_id]
    for i, person in enumerate(who):
        assert names[person] in events.nth(i).locator(".gc-event-who").inner_text(), i
    assert "满意" in events.nth(5).inner_text()
    assert "已更换" in events.nth(3).inner_text()
    assert page.locator("#gc-action-buttons button").count() == 0
    assert page.locator("#gc-action-buttons .gc-no-actions").is_visible()
    page.locator("#gc-timeline").scroll_into_view_if_needed()
    probe.screenshot("cases-detail-timeline")

    page.goto(f"/cases/{case_id}?lang=en")
    page.wait_for_selector('body[data-case-state="closed"]', timeout=TIMEOUT_MS)
    assert page.locator("#gc-head-state").inner_text() == "Closed"
    assert "Satisfied" in page.locator("#gc-timeline").inner_text()
    probe.screenshot("cases-detail-en")


def test_intake_on_a_phone_has_large_touch_targets(phone_probe: PageProbe, spot: Spot,
                                                   cast: Cast) -> None:
    sign_in(phone_probe.page, cast.worker)
    page = open_intake(phone_probe, spot)
    place_by_tap(page, spot)
    phone_probe.screenshot("cases-new-phone")
    page.screenshot(path=str(ARTIFACTS / "cases-new-phone-full.png"), full_page=True)
    for selector in ("#gc-geolocate", "#gc-building-q", "#gc-category", "#gc-channel",
                     "#gc-address", "#gc-reporter-phone", "#gc-submit", ".gm-lang a",
                     "#gm-user-menu"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["height"] >= TOUCH_PX, (selector, box)
    page.click("#gm-user-menu")
    for selector in ("#gm-user-name", "#gm-sign-out"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= TOUCH_PX, (selector, box)
    phone_probe.screenshot("cases-new-phone-menu")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def test_intake_explains_errors_and_keeps_the_form(probe: PageProbe, spot: Spot,
                                                   cast: Cast) -> None:
    sign_in(probe.page, cast.worker)
    page = open_intake(probe, spot)
    page.click("#gc-submit")
    assert "请先在地图上选择位置" in page.locator("#gc-form-error").inner_text()
    place_by_tap(page, spot)
    page.fill("#gc-description", "无类别")
    page.click("#gc-submit")
    assert "请选择类别" in page.locator("#gc-form-error").inner_text()
    assert page.input_value("#gc-description") == "无类别"
    page.set_input_files("#gc-photos", files=[
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}])
    assert "不是图片" in page.locator("#gc-photo-error").inner_text()
    assert page.locator("#gc-photo-previews li").count() == 0
    probe.screenshot("cases-new-errors")


def test_the_public_is_sent_to_sign_in_and_back(probe: PageProbe, cast: Cast) -> None:
    page = probe.page
    page.goto("/cases/new")
    page.wait_for_url(SIGN_IN_PAGE, timeout=TIMEOUT_MS)
    submit_sign_in(page, cast.worker)
    assert page.url.endswith("/cases/new"), page.url
    page.wait_for_function("() => window.gridmap && window.gridmap.ready", timeout=TIMEOUT_MS)


def file_case(client: Any, headers: dict[str, str], spot: Spot, category: str,
              description: str) -> int:
    """A case filed through the JSON API as ``headers``' account; its id."""
    response = client.post("/api/cases", headers=headers, data={
        "category": category, "description": description, "lon": str(spot.lon),
        "lat": str(spot.lat), "client_token": str(uuid.uuid4()), "confirm_new": "1"})
    assert response.status_code in (200, 201), response.get_json()
    return int(response.get_json()["case_id"])


def test_board_lists_a_new_case(probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts,
                                client: Any) -> None:
    case_id = file_case(client, accounts.headers(cast.worker), spot, "heating", "看板测试：暖气不热")
    page = probe.page
    sign_in(page, cast.worker)
    page.goto(f"/cases?grid={spot.grid_code}")
    page.wait_for_selector(f'tr[data-case-id="{case_id}"]', timeout=TIMEOUT_MS)
    assert f"grid={spot.grid_code}" in (page.get_attribute("#gc-export-csv", "href") or "")
    probe.screenshot("cases-board")
    page.click(f'tr[data-case-id="{case_id}"] a')
    page.wait_for_selector('body[data-case-state="reported"]', timeout=TIMEOUT_MS)


def _fill_report(page: Any, category: str, description: str) -> None:
    page.select_option("#gc-category", category)
    page.fill("#gc-description", description)
    page.click("#gc-submit")


def test_possible_duplicate_is_shown_and_the_report_linked(
        probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts, client: Any,
        live_server: str) -> None:
    headers = accounts.headers(cast.worker)
    first = file_case(client, headers, spot, "cityscape", "门前杂物堆放")
    sign_in(probe.page, cast.worker)
    page = open_intake(probe, spot)
    place_by_tap(page, spot)
    _fill_report(page, "cityscape", "楼下杂物又堆起来了")
    dialog = page.locator("#gc-dup-dialog[open]")
    dialog.wait_for(timeout=TIMEOUT_MS)
    # Other tests may have reported nearby too: pick our case's entry by its exact number.
    ours = dialog.locator("li.gc-dup").filter(
        has=page.locator(".gc-dup-head strong", has_text=re.compile(rf"^案件 {first}$")))
    ours.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("cases-new-duplicates")
    ours.locator(".gc-dup-actions button").click()
    page.wait_for_url(f"**/cases/{first}", timeout=TIMEOUT_MS)
    events = api(live_server, f"cases/{first}", headers)["events"]
    assert [e["action"] for e in events][-1] == "add_report"
    assert events[-1]["note"] == "楼下杂物又堆起来了"
    # Chrome logs every non-2xx fetch as a console error; this 409 is the server's question.
    probe.console_errors[:] = [e for e in probe.console_errors if "409" not in e]


def test_point_on_a_grid_boundary_asks_which_grid(probe: PageProbe, spot: Spot, cast: Cast,
                                                  accounts: Accounts, engine: Engine,
                                                  live_server: str) -> None:
    with engine.connect() as conn:
        edge = conn.execute(text("""
            SELECT a.code AS a, b.code AS b, a.community_code,
                   ST_X(ST_LineInterpolatePoint(s, 0.5)) AS lon,
                   ST_Y(ST_LineInterpolatePoint(s, 0.5)) AS lat
            FROM grid a JOIN grid b ON a.code < b.code AND a.geom && b.geom,
                 LATERAL (SELECT (ST_Dump(ST_LineMerge(ST_CollectionExtract(
                     ST_Intersection(a.geom, b.geom), 2)))).geom AS s) seg
            WHERE ST_Length(s::geography) > 60 AND left(a.code, 12) = left(b.code, 12)
            ORDER BY a.code DESC LIMIT 1""")).mappings().one()
        secretary = conn.execute(text(
            "SELECT id FROM person WHERE role = 'community_secretary' AND community_code = :c "
            "ORDER BY id LIMIT 1"), {"c": edge["community_code"]}).scalar_one()
    # Both grids are in one community, whose staff may report in either of them.
    staff = cast.community if secretary == spot.secretary_id else accounts.create(
        "community_staff", person_id=secretary, area_code=edge["community_code"])
    here = Spot(edge["a"], edge["community_code"], edge["lon"], edge["lat"], spot.department,
                0, 0, secretary, 0)
    sign_in(probe.page, staff)
    page = open_intake(probe, here)
    go_to(page, here.lon, here.lat, 19)
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    place_by_tap(page, here)
    # Issue 12: asked right after the tap, on the map: both grids highlighted, one chosen.
    choices = page.locator(".gc-grid-pick-button")
    choices.first.wait_for(timeout=TIMEOUT_MS)
    assert sorted(choices.evaluate_all("bs => bs.map(b => b.dataset.code)")) == [edge["a"], edge["b"]]
    assert page.locator("path.gc-grid-candidate").count() == 2
    assert page.locator(".gc-grid-pick-button[aria-pressed='true']").count() == 1
    probe.screenshot("cases-new-which-grid")
    page.locator(f".gc-grid-pick-button[data-code='{edge['b']}']").click()
    assert page.locator(".gc-grid-pick-button[aria-pressed='true']").get_attribute(
        "data-code") == edge["b"]
    _fill_report(page, "cityscape", "两个网格交界处的路灯杆倾斜")
    page.wait_for_selector('body[data-case-state="reported"]', timeout=TIMEOUT_MS)
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert api(live_server, f"cases/{case_id}", accounts.headers(staff))["grid_code"] == edge["b"]
    probe.console_errors[:] = [e for e in probe.console_errors if "409" not in e]


def test_community_reassigns_a_misrouted_case(probe: PageProbe, spot: Spot, cast: Cast,
                                              accounts: Accounts, client: Any) -> None:
    case_id = file_case(client, accounts.headers(cast.worker), spot, "property_management",
                        "物业不管楼顶漏水")
    community = accounts.headers(cast.community)
    version = client.get(f"/api/cases/{case_id}", headers=community).get_json()["version"]
    sent = client.post(f"/api/cases/{case_id}/actions", headers=community, data={
        "action": "dispatch", "version": str(version), "department": spot.department})
    assert sent.status_code == 200, sent.get_json()
    department = sent.get_json()["owner_department_name"]

    page = probe.page
    sign_in(page, cast.community, next_path=f"/cases/{case_id}")
    page.wait_for_selector('body[data-case-state="dispatched"]', timeout=TIMEOUT_MS)
    page.locator("#gc-action-buttons .gc-action-reassign").click()
    form = page.locator("#gc-action-form")
    form.wait_for(state="visible", timeout=TIMEOUT_MS)
    choices = form.locator("select[name=department] option").all_inner_texts()
    assert department not in choices and "网格自办" in choices      # never the current owner
    page.select_option("#gc-action-form select[name=department]", "")
    form.get_by_role("button", name="确认").click()
    assert form.locator(".gc-form-error").inner_text() == "请填写说明"  # the reason is required
    page.fill("#gc-action-form textarea[name=note]", "楼顶漏水属公共部位，由网格协调维修基金。")
    probe.screenshot("cases-detail-reassign-form")
    form.get_by_role("button", name="确认").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gc-timeline .gc-event')].pop()"
        ".dataset.action === 'reassign'", timeout=TIMEOUT_MS)
    assert page.get_attribute("body", "data-case-state") == "dispatched"
    last = page.locator("#gc-timeline .gc-event").last
    assert f"改派：{department} → 网格自办" in last.inner_text()
    assert "网格自办" in page.locator("#gc-facts").inner_text()
    probe.screenshot("cases-detail-reassigned")
