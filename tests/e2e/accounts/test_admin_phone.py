"""The administration pages on a phone-sized screen in a real browser: an administrator signs in,
creates an account for an existing grid worker, sees its one-time password once, and finds the
grid worker's grid; no page is wider than the screen and none runs a script of its own (but the
account forms' area picker). At 1280×800 an administrator gives a new account its area by name.

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
    made = {"username": f"e2e.admin.{tag}", "new_username": f"e2e.worker.{tag}",
            "new_name": f"端到端新人{tag}"}
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
        conn.execute(text("DELETE FROM person WHERE id = :p OR name = :n"),
                     {"p": person, "n": made["new_name"]})


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


def test_an_administrator_picks_the_area_of_a_new_account_by_name(
        probe: PageProbe, admin_account: dict[str, Any], owner_engine: Engine) -> None:
    """Issue 12: the account's area is picked by name, not typed as a 12-digit code; a name not
    picked from the list is told under the field and nothing is created."""
    with owner_engine.connect() as conn:
        code, name = conn.execute(text("SELECT code, name FROM community WHERE name IN "
                                       "(SELECT name FROM community GROUP BY name HAVING count(*) = 1) "
                                       "ORDER BY code LIMIT 1")).one()
    page = probe.page
    page.goto("/admin/accounts/new")
    page.fill("#gm-username", admin_account["username"])
    page.fill("#gm-password", PASSWORD)
    page.click("#gm-sign-in")
    page.wait_for_url("**/admin/accounts/new")
    field = page.locator("#gm-area-code")
    assert field.get_attribute("pattern") is None and field.get_attribute("name") is None
    page.fill("input[name=name]", admin_account["new_name"])
    page.fill("input[name=username]", admin_account["new_username"])
    page.select_option("select[name=role]", "community_staff")

    field.fill("没有这个社区")
    page.get_by_role("button", name="创建账号").click()
    problem = page.locator("#gm-area-code-problem")
    problem.wait_for(timeout=10_000)
    assert "“没有这个社区”不是列表中的单位" in problem.inner_text()
    assert page.url.endswith("/admin/accounts/new")  # not sent
    probe.screenshot("admin-account-area-not-picked")

    field.fill(name)
    page.locator(f".gm-picker-option[data-code='{code}']").click()
    assert field.input_value() == name and problem.is_hidden()
    assert page.locator("input[type=hidden][name=area_code]").input_value() == code
    probe.screenshot("admin-account-area-picked")
    page.get_by_role("button", name="创建账号").click()
    assert len(page.locator("#gm-one-time-password").inner_text()) == 19
    with owner_engine.connect() as conn:
        role, area = conn.execute(text("SELECT role, area_code FROM account WHERE username = :u"),
                                  {"u": admin_account["new_username"]}).one()
    assert (role, area) == ("community_staff", code)

    page.get_by_role("link", name="查看账号").click()  # the account's form shows the area by name
    page.wait_for_function(f"() => document.getElementById('gm-area-code').value === {name!r}",
                           timeout=10_000)
    probe.screenshot("admin-account-area-shown")
