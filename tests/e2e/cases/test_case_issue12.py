"""Issue 12 in a real browser: a merged report keeps its reporter's phone and photo (phone,
390×844; checked in the database and on disk); the case page says who acts next in every state
and the rating form, with "how obtained", is in view (desktop 1280×800 and phone).

Screenshots go to test-artifacts/ (cases-i12-*.png): look at them.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from case_people import Cast, Spot
from e2e_support import Accounts, PageProbe, sign_in
from PIL import Image
from sqlalchemy import Engine, text
from test_case_pages import TIMEOUT_MS, file_case, open_intake, place_by_tap

from gridmap.cases.workflow import State

pytestmark = pytest.mark.e2e

CATEGORY = "stairwell_lighting"     # 楼道照明 → 房产 (housing)




def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 140, 60)).save(out, "PNG")
    return out.getvalue()


def _act(client: Any, headers: dict[str, str], case_id: int, action: str, **params: Any) -> None:
    version = client.get(f"/api/cases/{case_id}", headers=headers).get_json()["version"]
    response = client.post(f"/api/cases/{case_id}/actions", headers=headers,
                           json={"action": action, "version": version, **params})
    assert response.status_code == 200, response.get_json()


def _open(page: Any, case_id: int, state: str) -> str:
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector(f'body[data-case-state="{state}"]', timeout=TIMEOUT_MS)
    page.locator("#gc-next-step").wait_for(state="visible", timeout=TIMEOUT_MS)
    return str(page.locator("#gc-next-step").inner_text())


def _in_view(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def _merge_button(page: Any, first: int) -> Any:
    """The duplicate dialog's "merge into" button of case ``first``, checked to be the primary
    choice (and "file anyway" not)."""
    dialog = page.locator("#gc-dup-dialog[open]")
    dialog.wait_for(timeout=TIMEOUT_MS)
    ours = dialog.locator("li.gc-dup").filter(
        has=page.locator(".gc-dup-head strong", has_text=re.compile(rf"^案件 {first}$")))
    merge = ours.locator(".gc-dup-actions button")
    assert merge.inner_text() == "合并到此案件"
    assert "gc-button-primary" in (merge.get_attribute("class") or "")
    assert "gc-button-primary" not in (page.get_attribute("#gc-file-anyway", "class") or "")
    return merge


def test_merging_on_a_phone_keeps_the_second_reporters_phone_and_photo(
        phone_probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts, client: Any,
        engine: Engine, app: Any, tmp_path: Path) -> None:
    first = file_case(client, accounts.headers(cast.worker), spot, CATEGORY, "楼道灯不亮")
    page = phone_probe.page
    sign_in(page, cast.worker)
    page = open_intake(phone_probe, spot)
    place_by_tap(page, spot)
    page.select_option("#gc-category", CATEGORY)
    page.fill("#gc-description", "二单元楼道灯也坏了")
    page.fill("#gc-reporter-name", "王小二")
    page.fill("#gc-reporter-phone", "13912345678")
    photo = tmp_path / "second.png"
    photo.write_bytes(_png())
    page.set_input_files("#gc-photos", str(photo))
    page.click("#gc-submit")
    merge = _merge_button(page, first)
    phone_probe.screenshot("cases-i12-duplicates-phone")
    merge.click()
    page.wait_for_url(f"**/cases/{first}", timeout=TIMEOUT_MS)
    item = page.locator('#gc-timeline li[data-action="add_report"]')
    item.wait_for(timeout=TIMEOUT_MS)
    shown = item.inner_text()
    assert "第 2 位反映人" in shown and "王小二" in shown and "139****5678" in shown
    assert "13912345678" not in page.content()
    assert item.locator(".gc-event-photos img").count() == 1
    item.scroll_into_view_if_needed()
    phone_probe.screenshot("cases-i12-merged-timeline-phone")
    with engine.connect() as conn:
        payload, at = conn.execute(text(
            "SELECT payload, created_at FROM case_event WHERE case_id = :i AND action = 'add_report'"),
            {"i": first}).one()
        paths = conn.execute(text("SELECT path, thumb_path FROM case_photo WHERE id = ANY(:ids) "
                                  "AND case_id = :i"), {"ids": payload["photo_ids"], "i": first}).all()
    assert payload["reporter_name"] == "王小二" and payload["reporter_phone"] == "13912345678"
    assert payload["channel"] and at is not None and len(paths) == 1
    media = Path(app.extensions["gridmap.settings"].media_dir)
    assert all((media / p).stat().st_size > 0 for p in paths[0])
    # The grid worker handles the case: may reveal the number (logged).
    item.locator(".gc-reveal").click()
    item.locator("a.gc-tel").wait_for(timeout=TIMEOUT_MS)
    assert item.locator("a.gc-tel").inner_text() == "13912345678"
    phone_probe.screenshot("cases-i12-merged-phone-revealed")
    phone_probe.console_errors[:] = [e for e in phone_probe.console_errors if "409" not in e]


def test_the_duplicate_dialog_on_a_desktop_puts_merging_first(
        probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts, client: Any) -> None:
    first = file_case(client, accounts.headers(cast.worker), spot, CATEGORY, "楼道灯不亮（桌面）")
    page = probe.page
    sign_in(page, cast.worker)
    page = open_intake(probe, spot)
    place_by_tap(page, spot)
    page.select_option("#gc-category", CATEGORY)
    page.fill("#gc-description", "三单元楼道灯也坏了")
    page.click("#gc-submit")
    _merge_button(page, first)  # checks that merging is the primary choice
    assert _in_view(page, "#gc-dup-dialog")
    probe.screenshot("cases-i12-duplicates-desktop")
    # Intake answers "possible duplicates" with a 409, which the browser logs.
    probe.console_errors[:] = [e for e in probe.console_errors if "409" not in e]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_server_problem_shows_at_its_field_in_the_pages_language(
        probe: PageProbe, spot: Spot, cast: Cast, lang: str) -> None:
    """The server refuses a phone number: the message stands under 反映人电话 (the field's own
    label), in the page's language only, and nothing is filed."""
    page = probe.page
    sign_in(page, cast.worker, next_path=f"/cases/new?lang={lang}")
    page = open_intake(probe, spot)
    place_by_tap(page, spot)
    page.select_option("#gc-category", CATEGORY)
    page.fill("#gc-description", "楼道灯闪烁" if lang == "zh" else "Stairwell light flickers")
    page.fill("#gc-reporter-phone", "call me")
    page.click("#gc-submit")
    note = page.locator("#gc-error-reporter_phone")
    note.wait_for(timeout=TIMEOUT_MS)
    shown = str(note.inner_text())
    field = page.locator("#gc-reporter-phone")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.evaluate("(c, n) => c.closest('.gc-field').contains(n)", note.element_handle())
    if lang == "zh":
        assert shown.startswith("反映人电话") and not re.search(r"[A-Za-z]{3}", shown), shown
    else:
        assert not re.search(r"[\u4e00-\u9fff]", shown) and "phone" in shown.lower(), shown
    assert page.locator("#gc-form-error").is_hidden()
    probe.screenshot(f"cases-i12-field-error-{lang}")
    # The refusal is a 400, which the browser logs.
    probe.console_errors[:] = [e for e in probe.console_errors if "400" not in e]


def _read_as_bystander(page: Any, case_id: int, state: str) -> str:
    """The next-step sentence as a reader who is not the one to act (no "your turn" badge)."""
    sentence = _open(page, case_id, state)
    assert page.locator("#gc-next-step .gc-your-turn").count() == 0, sentence
    assert "当前操作人" not in page.content()
    return sentence


def test_next_step_in_every_state_and_the_rating_form_in_view(
        probe: PageProbe, spot: Spot, cast: Cast, accounts: Accounts, client: Any,
        engine: Engine) -> None:
    """Every state of a case, read at 1280×800 by an administrator (who reads every case and
    acts on none) and, while a department works it, by the grid's worker: each time one sentence
    says who acts, what, and by when; the rating form opens in view and asks how it was obtained."""
    worker, staff, community = (accounts.headers(cast.worker), accounts.headers(cast.department),
                                accounts.headers(cast.community))
    admin = accounts.create("admin", name="e2e 管理员")
    with engine.connect() as conn:
        department = conn.execute(text("SELECT name_zh FROM department WHERE code = :d"),
                                  {"d": spot.department}).scalar_one()
        community_name = conn.execute(text("SELECT name FROM community WHERE code = :c"),
                                      {"c": spot.community_code}).scalar_one()
        worker_name = conn.execute(text("SELECT name FROM person WHERE id = :p"),
                                   {"p": spot.worker_id}).scalar_one()
    supervisors = f"{community_name}或街道、区指挥中心"
    due = r"（时限 2\d{3}\D\d{2}\D\d{2}\D? \d{2}:\d{2}）"  # a date and a time
    page = probe.page
    seen: dict[str, str] = {}

    def read(case_id: int, state: str, pattern: str, shot: str | None = None) -> None:
        sentence = _read_as_bystander(page, case_id, state)
        assert re.fullmatch(pattern, sentence), (state, sentence)
        seen[state] = sentence
        if shot:
            probe.screenshot(f"cases-i12-next-{shot}")

    # The main road: reported → dispatched → in_progress → resolved → verified → rated → closed.
    case_id = file_case(client, worker, spot, CATEGORY, "楼道灯不亮（下一步）")
    sign_in(page, admin)
    read(case_id, "reported", f"等待网格员{worker_name}或{community_name}分派{due}", "reported")
    assert community_name in page.locator("#gc-facts").inner_text()
    _act(client, community, case_id, "dispatch", department=spot.department)
    read(case_id, "dispatched", f"等待{department}开始处置{due}", "dispatched")
    sign_in(page, cast.worker)  # the grid's worker waits for the department too
    read(case_id, "dispatched", f"等待{department}开始处置{due}")
    _act(client, staff, case_id, "start")
    read(case_id, "in_progress", f"等待{department}处置并办结{due}", "in-progress")
    _act(client, staff, case_id, "resolve", note="已更换灯泡")
    read(case_id, "resolved", f"等待{supervisors}核查处置结果", "resolved")
    sign_in(page, admin)
    _act(client, community, case_id, "verify")
    read(case_id, "verified", f"等待网格员{worker_name}或{community_name}回访居民并评价", "verified")

    sign_in(page, cast.community)  # the one who rates: the form opens in view
    sentence = _open(page, case_id, "verified")
    assert page.locator("#gc-next-step .gc-your-turn").count() == 1, sentence
    page.click("#gc-action-buttons .gc-action-rate")
    page.locator("#gc-action-form").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)
    probe.screenshot("cases-i12-rating-form")
    assert _in_view(page, ".gc-rating-methods") and _in_view(page, "button.gc-rating-satisfied")
    assert _in_view(page, "button.gc-rating-dissatisfied")
    methods = page.locator(".gc-rating-methods").inner_text()
    assert all(m in methods for m in ("回访方式", "电话回访", "上门回访", "短信", "网上评价")), methods
    page.locator("button.gc-rating-satisfied").click()  # no method chosen: asked for it
    assert "回访方式" in page.locator("#gc-action-form .gc-form-error").inner_text()
    page.locator("input[name=method][value=in_person]").check()
    page.locator("button.gc-rating-satisfied").click()
    page.wait_for_selector('body[data-case-state="rated"]', timeout=TIMEOUT_MS)
    assert "上门回访" in page.locator('#gc-timeline li[data-action="rate"]').inner_text()
    with engine.connect() as conn:
        method = conn.execute(text("SELECT payload->>'method' FROM case_event WHERE case_id = :i "
                                   "AND action = 'rate'"), {"i": case_id}).scalar_one()
    assert method == "in_person"

    sign_in(page, cast.department)  # the department is done: it only reads
    read(case_id, "rated", f"等待网格员{worker_name}或{community_name}结案", "rated")
    _act(client, community, case_id, "close")
    read(case_id, "closed", "案件已结案，无需再办理", "closed")

    # The side roads: returned by the department, suspended, cancelled.
    side = file_case(client, worker, spot, CATEGORY, "楼道灯不亮（退回、挂起、作废）")
    _act(client, community, side, "dispatch", department=spot.department)
    sign_in(page, cast.department)  # returns it on the page: done, and no longer theirs to read
    _open(page, side, "dispatched")
    page.click("#gc-action-buttons .gc-action-return")
    page.fill("#gc-action-form textarea", "不属于本部门职责")
    page.locator("#gc-action-form").get_by_role("button", name="确认").click()
    message = page.locator("#gc-action-message")
    message.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert message.inner_text().startswith("已退回，此案件已不在您的办理范围内"), message.inner_text()
    assert "不存在" not in message.inner_text()
    assert page.locator("#gc-next-step").is_hidden()  # it spoke of the state before the return
    probe.screenshot("cases-i12-returned-by-department")
    sign_in(page, admin)
    read(side, "returned", f"等待网格员{worker_name}或{community_name}分派{due}", "returned")
    _act(client, community, side, "suspend", note="等待居民提供钥匙")
    read(side, "suspended", f"案件已挂起，等待{supervisors}恢复办理", "suspended")
    _act(client, community, side, "cancel", reason="invalid")
    read(side, "cancelled", "案件已作废，无需再办理", "cancelled")

    # Kept by the grid: its worker starts and resolves it.
    kept = file_case(client, worker, spot, CATEGORY, "楼道灯不亮（网格自办）")
    _act(client, community, kept, "dispatch", department=None)
    read(kept, "dispatched", f"等待网格员{worker_name}开始处置{due}")
    _act(client, worker, kept, "start")
    read(kept, "in_progress", f"等待网格员{worker_name}处置并办结{due}")

    # In English the sentence is English only (names stay as they are).
    page.goto(f"/cases/{kept}?lang=en")
    page.wait_for_selector('body[data-case-state="in_progress"]', timeout=TIMEOUT_MS)
    english = str(page.locator("#gc-next-step").inner_text())
    assert re.fullmatch(rf"Waiting for grid worker {worker_name} to fix and resolve it "
                        r"\(due .*\d{2}:\d{2}\)", english), english
    probe.screenshot("cases-i12-next-in-progress-en")

    assert set(seen) == {s.value for s in State}, sorted(set(s.value for s in State) - set(seen))


def test_the_rating_form_is_in_view_on_a_phone(phone_probe: PageProbe, spot: Spot, cast: Cast,
                                               accounts: Accounts, client: Any) -> None:
    worker, staff, community = (accounts.headers(cast.worker), accounts.headers(cast.department),
                                accounts.headers(cast.community))
    case_id = file_case(client, worker, spot, CATEGORY, "楼道灯不亮（手机评价）")
    _act(client, community, case_id, "dispatch", department=spot.department)
    _act(client, staff, case_id, "start")
    _act(client, staff, case_id, "resolve", note="已更换灯泡")
    _act(client, community, case_id, "verify")
    page = phone_probe.page
    sign_in(page, cast.community)
    _open(page, case_id, "verified")
    phone_probe.screenshot("cases-i12-next-verified-phone")
    page.locator("#gc-action-buttons .gc-action-rate").click()
    page.locator("#gc-action-form").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)
    phone_probe.screenshot("cases-i12-rating-form-phone")
    assert _in_view(page, "button.gc-rating-dissatisfied")
