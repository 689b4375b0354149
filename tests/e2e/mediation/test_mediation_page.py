"""The mediation page in a real browser: community staff accept a dispute through the form,
record a session and reach an agreement; staff of another community see the same dispute with
its parties masked. Screenshots go to test-artifacts/ (mediation-*.png); look at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import Accounts, PageProbe, TestAccount, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000


@pytest.fixture
def community(engine: Engine, owner_engine: Engine) -> Iterator[dict[str, object]]:
    """A community with its mediation point; the disputes made there are removed afterwards
    (as the owner: their history is append-only for the app)."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT p.area_code, p.facility_id, f.name FROM mediation_point p JOIN facility f "
            "ON f.id = p.facility_id WHERE p.level = 'community' ORDER BY p.area_code LIMIT 1")
        ).one()
        other = conn.execute(text("SELECT max(code) FROM community")).scalar_one()
    yield {"code": row[0], "point": row[1], "name": row[2], "other": other}
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM dispute WHERE point_id IN (SELECT facility_id FROM "
                          "mediation_point WHERE area_code IN (:c, :s))"),
                     {"c": row[0], "s": str(row[0])[:9]})


@pytest.fixture
def staff(accounts: Accounts, community: dict[str, object]) -> TestAccount:
    return accounts.create("community_staff", name="测试调解", area_code=str(community["code"]))


@pytest.fixture
def outsider(accounts: Accounts, community: dict[str, object]) -> TestAccount:
    return accounts.create("community_staff", name="外社区", area_code=str(community["other"]))


def test_staff_accept_mediate_and_agree_and_outsiders_see_masks(
        probe: PageProbe, staff: TestAccount, outsider: TestAccount,
        community: dict[str, object]) -> None:
    page = probe.page
    sign_in(page, staff, next_path="/mediation")
    page.locator("#gmd-point-rows tr").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator("a[href='/mediation']").count() == 1  # the header's link
    assert page.locator("#gmd-point-name").inner_text() == community["name"]
    assert page.locator("#gmd-map .leaflet-interactive").count() >= 3  # three levels
    # The communities and sub-districts around the points are drawn under them.
    page.locator("#gmd-map .leaflet-gmd-outlines-pane path").first.wait_for(
        state="attached", timeout=TIMEOUT_MS)
    page.click("#gmd-new")
    form = page.locator("#gmd-new-form")
    form.locator("[name=kind]").select_option("neighbour")
    form.locator("[name=summary]").fill("楼上漏水殃及楼下，双方就维修费用协商未果")
    names = form.locator("[name=party_name]")
    names.nth(0).fill("王建国")
    names.nth(1).fill("李秀兰")
    form.locator("[name=party_phone]").nth(0).fill("13812345678")
    form.locator("[name=party_address]").nth(0).fill("和平里小区3号楼2单元301")
    form.locator("button[type=submit]").click()
    page.locator("#gmd-dispute:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    assert "王建国" in page.locator("#gmd-parties").inner_text()
    assert "13812345678" in page.locator("#gmd-parties").inner_text()
    assert page.locator("#gmd-masked").is_hidden()
    # A session: the form offers exactly the steps the server allows.
    labels = page.locator("#gmd-actions label").all_inner_texts()
    assert [t.strip() for t in labels] == ["记录调解", "上交上一级", "引导诉讼"]
    step = page.locator("#gmd-step")
    step.locator("[name=present]").fill("调解员 刘淑华，楼长 赵桂芝")
    step.locator("[name=note]").fill("双方陈述事实，调解员释法明理")
    step.locator("#gmd-step-submit").click()
    page.locator("#gmd-sessions li", has_text="刘淑华").wait_for(timeout=TIMEOUT_MS)
    page.locator("#gmd-actions label", has_text="达成协议").click()
    step.locator("[name=note]").fill("楼上住户承担维修费用，三日内修复")
    step.locator("#gmd-step-submit").click()
    page.locator("#gmd-dispute-facts", has_text="达成协议").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gmd-step").is_hidden()
    assert page.locator("#gmd-events li").count() == 3
    probe.screenshot("mediation-staff")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator("#gmd-point-rows tr.gmd-chosen td:nth-child(3)", has_text="0").wait_for(
        timeout=TIMEOUT_MS)  # the counts reloaded: nothing open, one received and agreed
    probe.screenshot("mediation-staff-top")
    # A case sent here to become a dispute (转评理说事): the form opens with its number.
    page.goto("/mediation?case=4321")
    page.locator("#gmd-new-form:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gmd-new-form [name=case_id]").input_value() == "4321"

    # Staff of another community: the dispute's parties masked, no free text, no steps.
    page.context.clear_cookies()
    sign_in(page, outsider, next_path=f"/mediation?area={community['code']}")
    page.locator(f"#gmd-point-rows tr[data-point='{community['point']}'].gmd-chosen").wait_for(
        timeout=TIMEOUT_MS)
    page.locator("#gmd-disputes .gmd-dispute button").first.click()
    page.locator("#gmd-dispute:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    shown = page.locator("#gmd-dispute").inner_text()
    assert "王建国" not in shown and "13812345678" not in shown and "301" not in shown
    assert "王**" in shown and "138****5678" in shown
    assert page.locator("#gmd-masked").is_visible() and page.locator("#gmd-step").is_hidden()
    probe.screenshot("mediation-masked")
    page.goto("/mediation?lang=en")
    page.locator("#gmd-point-rows tr").first.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("mediation-en")
