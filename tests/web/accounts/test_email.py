"""The notification e-mail address (supervision's e-mail channel): a person sets their own on
"我的账号", an administrator anyone's; it is checked, stored normalised and audit-logged. (The
escalation job's e-mail notices to it: tests/db/supervision.)"""

from __future__ import annotations

from account_forms import PASSWORD, form_token, post_form, sign_in
from sqlalchemy import text


def _email(tx, account_id: int) -> str | None:  # type: ignore[no-untyped-def]
    found: str | None = tx.execute(text("SELECT email FROM account WHERE id = :a"),
                                   {"a": account_id}).scalar_one()
    return found


def _audit(tx, account_id: int) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    rows = tx.execute(text("SELECT username, detail FROM audit_log WHERE action = 'email_changed'"
                           " AND target_id = :t ORDER BY id"), {"t": str(account_id)})
    return [dict(r) for r in rows.mappings()]


def test_a_person_sets_and_clears_their_own_email(client, make_account, tx) -> None:
    me = make_account("community_staff", area="210103001001")
    sign_in(client, me.username, PASSWORD)
    token = form_token(client, "/account")
    saved = client.post("/account/email", data={"csrf_token": token,
                                                 "email": "  Wang.Li@Example.GOV.cn "})
    assert saved.status_code == 303
    # The domain is lower-cased, the local part kept, the spaces dropped.
    assert _email(tx, me.account_id) == "Wang.Li@example.gov.cn"
    page = client.get("/account").get_data(as_text=True)
    assert 'value="Wang.Li@example.gov.cn"' in page and "通知邮箱已保存" in page

    cleared = client.post("/account/email", data={"csrf_token": form_token(client, "/account"),
                                                  "email": ""})
    assert cleared.status_code == 303 and _email(tx, me.account_id) is None
    entries = _audit(tx, me.account_id)
    assert [e["detail"] for e in entries] == [
        {"username": me.username, "before": {"email": None},
         "after": {"email": "Wang.Li@example.gov.cn"}},
        {"username": me.username, "before": {"email": "Wang.Li@example.gov.cn"},
         "after": {"email": None}}]
    assert {e["username"] for e in entries} == {me.username}


def test_a_bad_address_is_refused_with_the_reason_and_changes_nothing(client, make_account,
                                                                      tx) -> None:
    me = make_account("grid_worker")
    sign_in(client, me.username, PASSWORD)
    for bad in ("wang", "wang@", "wang@@example.cn", "王 丽@example.cn", "a@b", "x" * 250 + "@a.cn"):
        answer = client.post("/account/email", data={"csrf_token": form_token(client, "/account"),
                                                     "email": bad})
        assert answer.status_code == 400, bad
        assert "邮箱" in answer.get_data(as_text=True)
    assert _email(tx, me.account_id) is None and _audit(tx, me.account_id) == []


def test_an_administrator_sets_anyones_email_and_others_cannot(admin_client, app, make_account,
                                                               tx) -> None:
    target = make_account("subdistrict_staff", area="210103001")
    page = f"/admin/accounts/{target.account_id}"
    answer = post_form(admin_client, f"{page}/email", {"email": "zhang@example.cn"}, page=page)
    assert answer.status_code == 303 and _email(tx, target.account_id) == "zhang@example.cn"
    assert "zhang@example.cn" in admin_client.get(page).get_data(as_text=True)
    (entry,) = _audit(tx, target.account_id)
    assert entry["username"] == admin_client.admin.username  # type: ignore[attr-defined]
    refused = post_form(admin_client, f"{page}/email", {"email": "not an address"}, page=page)
    assert refused.status_code == 400 and _email(tx, target.account_id) == "zhang@example.cn"

    # Anyone else: the admin page is for administrators only.
    other = make_account("community_staff", area="210103001001")
    browser = app.test_client()
    sign_in(browser, other.username, PASSWORD)
    token = form_token(browser, "/account")
    forbidden = browser.post(f"{page}/email", data={"csrf_token": token, "email": "me@x.cn"})
    assert forbidden.status_code == 403 and _email(tx, target.account_id) == "zhang@example.cn"

