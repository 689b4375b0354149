"""The administration pages on a phone-sized screen in a real browser: an administrator signs in,
creates an account for an existing grid worker, sees its one-time password once, and finds the
grid worker's grid; no page is wider than the screen and none runs a script of its own.

The live server commits for real, so the accounts made here are removed afterwards (with their
audit entries, as the schema's owner: the log is append-only for the app).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import PageProbe
from sqlalchemy import Engine, text

from gridmap.accounts import credentials

pytestmark = pytest.mark.e2e

PASSWORD = "phone-admin-password-7"


@pytest.fixture
def admin_account(owner_engine: Engine) -> Iterator[dict[str, Any]]:
    """A committed administrator and the user name the test will create; removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    made = {"username": f"e2e.admin.{tag}", "new_username": f"e2e.worker.{tag}"}
    with owner_engine.begin() as conn:
        person = conn.execute(text("INSERT INTO person (name, role) VALUES ('端到端管理员', "
                                   "'staff') RETURNING id")).scalar_one()
        conn.execute(text("INSERT INTO account (username, person_id, role, password_hash, "
                          "must_change_password) VALUES (:u, :p, 'admin', :h, false)"),
                     {"u": made["username"], "p": person, "h": credentials.hash_password(PASSWORD)})
        made["grid"], made["worker"], made["worker_name"] = conn.execute(text(
            "SELECT m.grid_code, m.person_id, p.name FROM grid_member m JOIN person p "
            "ON p.id = m.person_id LEFT JOIN account a ON a.person_id = p.id "
            "WHERE m.role = 'grid_worker' AND a.id IS NULL ORDER BY m.grid_code LIMIT 1")).one()
    yield made
    with owner_engine.begin() as conn:
        names = [made["username"], made["new_username"]]
        ids = conn.execute(text("SELECT id FROM account WHERE username = ANY(:n)"),
                           {"n": names}).scalars().all()
        conn.execute(text("DELETE FROM audit_log WHERE username = ANY(:n) OR "
                          "(target_kind = 'account' AND target_id = ANY(:ids))"),
                     {"n": names, "ids": [str(i) for i in ids]})
        conn.execute(text("DELETE FROM account WHERE username = ANY(:n)"), {"n": names})
        conn.execute(text("DELETE FROM person WHERE id = :p"), {"p": person})


def _fits(probe: PageProbe) -> None:
    width = probe.page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{probe.page.url} is {width[0]} px wide on a {width[1]} px screen"


def test_an_administrator_creates_an_account_on_a_phone(phone_probe: PageProbe,
                                                        admin_account: dict[str, Any]) -> None:
    page = phone_probe.page
    page.goto("/admin/accounts")
    assert "/login" in page.url
    page.fill("#gm-username", admin_account["username"])
    page.fill("#gm-password", PASSWORD)
    page.click("#gm-sign-in")
    page.wait_for_url("**/admin/accounts")
    _fits(phone_probe)

    page.goto(f"/admin/accounts/new?q={admin_account['worker']}")
    _fits(phone_probe)
    page.get_by_role("link", name="为此人新建账号").first.click()
    page.fill("input[name=username]", admin_account["new_username"])
    page.select_option("select[name=role]", "grid_worker")
    page.get_by_role("button", name="创建账号").click()
    secret = page.locator("#gm-one-time-password").inner_text()
    assert len(secret) == 19
    _fits(phone_probe)
    phone_probe.screenshot("admin-phone-account-created")

    page.get_by_role("link", name="查看账号").click()
    assert admin_account["worker_name"] in page.content()
    assert secret not in page.content()
    page.get_by_role("link", name="网格分配").first.click()
    page.fill("input[name=q]", admin_account["grid"])
    page.get_by_role("button", name="查找").click()
    page.locator(f"a[href='/admin/grids/{admin_account['grid']}']").click()
    assert admin_account["worker_name"] in page.locator("#worker").inner_text()
    _fits(phone_probe)
    phone_probe.screenshot("admin-phone-grid")
    for path in ("/admin/", "/admin/audit", "/admin/open311", "/admin/grids/"):
        page.goto(path)
        _fits(phone_probe)
    assert page.locator("script:not([src])").count() == 0  # CSP script-src 'self'
