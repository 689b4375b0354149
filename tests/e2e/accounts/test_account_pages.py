"""The account pages in a real browser, on a phone: my account (with a new API token shown once)
and the password form. Screenshots go to test-artifacts/ (account-*.png); look at them."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import ARTIFACTS, Accounts, PageProbe, TestAccount, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
PHONE_WIDTH = 390
TOUCH_PX = 44


@pytest.fixture(scope="module")
def worker(accounts: Accounts, engine: Engine) -> TestAccount:
    """A grid worker who serves one grid."""
    with engine.connect() as conn:
        person = conn.execute(text("""
            SELECT person_id FROM grid_member WHERE role = 'grid_worker'
              AND person_id NOT IN (SELECT person_id FROM account)
            GROUP BY person_id HAVING count(*) = 1 ORDER BY person_id DESC LIMIT 1""")).scalar_one()
    return accounts.create("grid_worker", person_id=int(person))


def fits_a_phone(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page scrolls sideways on a phone ({width}px)"


def test_my_account_shows_a_new_token_once(phone_probe: PageProbe, worker: TestAccount) -> None:
    page = phone_probe.page
    sign_in(page, worker, next_path="/account")
    assert page.locator("h1").inner_text() == "我的账号"
    assert "网格员" in page.locator(".gm-facts").inner_text()
    fits_a_phone(page)
    page.fill("input[name=name]", "月报脚本")
    page.locator("form[action$='/account/tokens'] button[type=submit]").click()
    secret = page.locator("#gm-new-token")
    secret.wait_for(timeout=TIMEOUT_MS)
    assert secret.inner_text().startswith("gmt_")
    assert page.locator(".gm-table tbody tr").count() == 1
    fits_a_phone(page)
    phone_probe.screenshot("account-phone-token")
    page.screenshot(path=str(ARTIFACTS / "account-phone-token-full.png"), full_page=True)


def test_password_form_on_a_phone(phone_probe: PageProbe, worker: TestAccount) -> None:
    page = phone_probe.page
    sign_in(page, worker, next_path="/account/password")
    for selector in ("#gm-current", "#gm-new", "#gm-repeat", "#gm-change-password"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= TOUCH_PX, (selector, box)
    page.fill("#gm-current", "wrong-current-password")
    page.fill("#gm-new", "a-new-Password-42")
    page.fill("#gm-repeat", "a-new-Password-42")
    page.click("#gm-change-password")
    page.locator(".gm-flash-error").wait_for(timeout=TIMEOUT_MS)
    fits_a_phone(page)
    phone_probe.screenshot("account-phone-password-error")
    phone_probe.console_errors[:] = [e for e in phone_probe.console_errors
                                     if "status of 4" not in e]
