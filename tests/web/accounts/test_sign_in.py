"""Signing in through the real form (cookie session, CSRF token), throttling and lockout, the
forced change of a one-time password, session lifetimes, CSRF and Origin checks.

Throttle tests build apps with small limits (``app_with``), each with a rate-limit key prefix of
its own, so counters never leak between tests or runs.
"""

from __future__ import annotations

import re
import time

from account_forms import PASSWORD, csrf_token, form_token, sign_in
from sqlalchemy import text

from gridmap.accounts.services.sign_in import WRONG

_FLASH = re.compile(r'class="gm-flash gm-flash-error"[^>]*>([^<]+)<')


def _message(response) -> str:  # type: ignore[no-untyped-def]
    found = _FLASH.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return found.group(1)


def _signed_in_as(client, username: str) -> bool:  # type: ignore[no-untyped-def]
    page = client.get("/account")
    return page.status_code == 200 and username in page.get_data(as_text=True)


def test_sign_in_with_the_form_starts_a_session(client, make_account, tx) -> None:
    made = make_account("planner")
    answer = sign_in(client, made.username, PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert "gridmap_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert _signed_in_as(client, made.username)
    last = tx.execute(text("SELECT last_sign_in_at FROM account WHERE id = :id"),
                      {"id": made.account_id}).scalar_one()
    assert last is not None
    actions = tx.execute(text("SELECT action FROM audit_log WHERE username = :u"),
                         {"u": made.username}).scalars().all()
    assert "sign_in" in actions


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(client, make_account) -> None:
    made = make_account("admin")
    assert client.get("/admin/accounts").headers["Location"].startswith("/login?next=")
    answer = sign_in(client, made.username, PASSWORD, next="/admin/accounts")
    assert answer.headers["Location"] == "/admin/accounts"
    other = client.application.test_client()
    answer = sign_in(other, made.username, PASSWORD, next="//evil.example/x")
    assert answer.headers["Location"] == "/"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_account, tx) -> None:
    made = make_account("planner")
    wrong = sign_in(client, made.username, "not-the-password-1")
    unknown = sign_in(client, "nobody-by-this-name", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert _message(wrong) == _message(unknown) == WRONG
    assert not _signed_in_as(client, made.username)
    failed = tx.execute(text("SELECT username FROM audit_log WHERE action = 'sign_in_failed' "
                             "AND username IN (:a, 'nobody-by-this-name')"),
                        {"a": made.username}).scalars().all()
    assert sorted(failed) == sorted([made.username, "nobody-by-this-name"])


def test_a_deactivated_account_cannot_sign_in(client, make_account, tx) -> None:
    made = make_account("planner")
    tx.execute(text("UPDATE account SET active = false WHERE id = :id"), {"id": made.account_id})
    answer = sign_in(client, made.username, PASSWORD)
    assert answer.status_code == 401 and _message(answer) == WRONG


def test_a_form_without_fields_is_400(client) -> None:
    token = form_token(client)
    assert client.post("/login", data={"csrf_token": token}).status_code == 400


def test_lockout_after_failures_for_one_name_even_with_the_right_password(
        app_with, make_account) -> None:
    client = app_with(sign_in_failures_account="3/minute").test_client()
    locked, other = make_account("planner"), make_account("planner")
    for _ in range(3):
        assert sign_in(client, locked.username, "wrong-password-11").status_code == 401
    answer = sign_in(client, locked.username, PASSWORD)
    assert answer.status_code == 429
    assert "登录失败次数过多" in _message(answer) and "too many failed sign-ins" in _message(answer)
    assert not _signed_in_as(client, locked.username)
    assert sign_in(client, other.username, PASSWORD).status_code == 302  # other names go on


def test_lockout_counts_unknown_names_like_known_ones(app_with) -> None:
    client = app_with(sign_in_failures_account="2/minute").test_client()
    for _ in range(2):
        assert sign_in(client, "ghost", "wrong-password-11").status_code == 401
    assert sign_in(client, "ghost", "wrong-password-11").status_code == 429


def test_lockout_per_address(app_with, make_account) -> None:
    app = app_with(sign_in_failures_account="100/minute", sign_in_failures_address="3/minute")
    here = app.test_client()
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    made = make_account("planner")
    for name in ("a-name", "b-name", "c-name"):
        assert sign_in(here, name, "wrong-password-11").status_code == 401
    assert sign_in(here, made.username, PASSWORD).status_code == 429
    assert sign_in(elsewhere, made.username, PASSWORD).status_code == 302


def test_a_success_clears_the_names_failures(app_with, make_account) -> None:
    client = app_with(sign_in_failures_account="3/minute").test_client()
    made = make_account("planner")
    for _ in range(2):
        for _ in range(2):
            assert sign_in(client, made.username, "wrong-password-11").status_code == 401
        assert sign_in(client, made.username, PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(
            client.get("/account").get_data(as_text=True))})


def test_a_one_time_password_must_be_changed_first(client, make_account, tx) -> None:
    made = make_account("community_staff", area=tx.execute(text(
        "SELECT code FROM community ORDER BY code LIMIT 1")).scalar_one(), must_change=True)
    answer = sign_in(client, made.username, PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/account/password")
    page = client.get("/cases")
    assert page.status_code == 302 and page.headers["Location"].startswith("/account/password")
    api = client.get("/api/meta")
    assert api.status_code == 403 and "one-time password" in api.get_json()["error"]["message"]
    token = form_token(client, "/account/password")
    assert client.post("/account/tokens", data={"csrf_token": token, "name": "x"}).status_code == 403
    changed = client.post("/account/password", data={
        "csrf_token": token, "current": PASSWORD, "new": "a-new-secret-77", "repeat": "a-new-secret-77"})
    assert changed.status_code == 302
    assert client.get("/api/meta").status_code == 200
    assert client.get("/cases").status_code == 200


def test_a_password_change_ends_the_other_sessions(app, make_account) -> None:
    made = make_account("planner")
    mine, other = app.test_client(), app.test_client()
    for browser in (mine, other):
        assert sign_in(browser, made.username, PASSWORD).status_code == 302
    token = form_token(mine, "/account/password")
    answer = mine.post("/account/password", data={
        "csrf_token": token, "current": PASSWORD, "new": "a-new-secret-77",
        "repeat": "a-new-secret-77"})
    assert answer.status_code == 302
    assert _signed_in_as(mine, made.username)
    gone = other.get("/account")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    assert sign_in(other, made.username, PASSWORD).status_code == 401
    assert sign_in(other, made.username, "a-new-secret-77").status_code == 302


def test_a_weak_new_password_is_refused_and_nothing_changes(client, make_account) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    token = form_token(client, "/account/password")
    for new, words in (("short", "at least"), (made.username + "-xyz-123", "user name")):
        answer = client.post("/account/password", data={
            "csrf_token": token, "current": PASSWORD, "new": new, "repeat": new})
        assert answer.status_code == 400 and words in _message(answer)
    wrong = client.post("/account/password", data={
        "csrf_token": token, "current": "not-it-at-all", "new": "a-new-secret-77",
        "repeat": "a-new-secret-77"})
    assert wrong.status_code == 400
    assert _signed_in_as(client, made.username)


def test_idle_timeout(client, make_account, settings) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    with client.session_transaction() as session:
        session["gm_seen"] = int(time.time()) - settings.session_idle_minutes * 60 - 5
    answer = client.get("/account")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_recent_use_keeps_the_session(client, make_account, settings) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    with client.session_transaction() as session:
        session["gm_seen"] = int(time.time()) - settings.session_idle_minutes * 60 + 60
    assert _signed_in_as(client, made.username)
    with client.session_transaction() as session:
        assert session["gm_seen"] >= int(time.time()) - 5  # the visit counted as activity


def test_absolute_lifetime(client, make_account, settings) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    with client.session_transaction() as session:
        session["gm_since"] = int(time.time()) - settings.session_hours * 3600 - 5
        session["gm_seen"] = int(time.time())
    answer = client.get("/account")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_post_with_the_cookie_but_no_csrf_token_is_refused(client, make_account, tx) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    answer = client.post("/account/tokens", data={"name": "script"})
    assert answer.status_code == 403
    answer = client.post("/account/tokens", data={"name": "script", "csrf_token": "forged"})
    assert answer.status_code == 403
    json_answer = client.post("/account/tokens", json={"name": "script"},
                              headers={"Accept": "application/json"})
    assert json_answer.status_code == 403
    count = tx.execute(text("SELECT count(*) FROM api_token WHERE account_id = :a"),
                       {"a": made.account_id}).scalar_one()
    assert count == 0


def test_a_cross_origin_post_is_refused_even_with_a_token(client, make_account) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    token = form_token(client, "/account")
    foreign = client.post("/account/tokens", data={"name": "x", "csrf_token": token},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    same = client.post("/account/tokens", data={"name": "x", "csrf_token": token},
                       headers={"Origin": "http://localhost"})
    assert same.status_code == 201


def test_sign_out_needs_a_post_with_the_token(client, make_account) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 403
    token = form_token(client, "/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _signed_in_as(client, made.username)
