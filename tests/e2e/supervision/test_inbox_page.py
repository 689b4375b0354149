"""The inbox in a real browser: the header's unread count, the inbox page, mark read.
Screenshots go to test-artifacts/ (inbox-*.png); look at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import Accounts, PageProbe, TestAccount, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000


@pytest.fixture
def staff(accounts: Accounts, engine: Engine) -> Iterator[TestAccount]:
    """A community's staff with two unread supervision notices and one read item (committed:
    the live server reads them), removed afterwards."""
    with engine.connect() as conn:
        community = conn.execute(text("SELECT min(code) FROM community")).scalar_one()
    account = accounts.create("community_staff", name="测试督办", area_code=community)
    with engine.begin() as conn:
        for body, read in (("督办：案件 1 已超过处置时限，已提级至社区督办 (supervision: case 1 "
                            "is past its resolution deadline; now supervised by the community)",
                            False),
                           ("退回：案件 2 已被退回，请重新分派 (returned: case 2 was sent back; "
                            "dispatch it again)", False),
                           ("新分派：案件 3 已分派给您 (new dispatch: case 3 was sent to you)", True)):
            conn.execute(text(
                "INSERT INTO inbox_item (person_id, kind, text, read_at) VALUES (:p, :k, :t, "
                "CASE WHEN :r THEN now() END)"),
                {"p": account.person_id, "k": body[:2] == "督办" and "supervision"
                 or body[:2] == "退回" and "return" or "dispatch", "t": body, "r": read})
    yield account
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM inbox_item WHERE person_id = :p"),
                     {"p": account.person_id})


def test_the_header_counts_unread_and_the_inbox_marks_read(probe: PageProbe,
                                                           staff: TestAccount) -> None:
    page = probe.page
    sign_in(page, staff, next_path="/inbox")
    badge = page.locator("#gm-inbox-count")
    badge.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert badge.inner_text() == "2"
    items = page.locator(".gi-item")
    items.first.wait_for(timeout=TIMEOUT_MS)
    assert items.count() == 3
    assert "已超过处置时限" in items.nth(1).inner_text() or "已超过处置时限" in \
        items.nth(0).inner_text()
    assert "(supervision:" not in page.locator("#gi-items").inner_text()  # one language
    probe.screenshot("inbox-zh")
    items.first.locator(".gi-mark").click()
    page.wait_for_function("() => document.getElementById('gm-inbox-count').textContent === '1'",
                           timeout=TIMEOUT_MS)
    page.locator("#gi-mark-all").click()
    badge.wait_for(state="hidden", timeout=TIMEOUT_MS)
    page.goto("/inbox?lang=en")
    page.locator(".gi-item").first.wait_for(timeout=TIMEOUT_MS)
    assert "Supervision" in page.locator("#gi-items").inner_text()
    probe.screenshot("inbox-en")
