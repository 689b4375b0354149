"""Personal API tokens: made on the account page (shown once), used as a bearer (no cookie, no
CSRF token), revoked from the next request on, with their last use recorded."""

from __future__ import annotations

import re

from account_forms import PASSWORD, form_token, sign_in
from sqlalchemy import text

_SECRET = re.compile(r'id="gm-new-token">(gmt_[^<]+)<')


def _new_token(client, name: str = "月报脚本") -> str:  # type: ignore[no-untyped-def]
    token = form_token(client, "/account")
    answer = client.post("/account/tokens", data={"csrf_token": token, "name": name})
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    found = _SECRET.search(answer.get_data(as_text=True))
    assert found
    return found.group(1)


def test_a_token_works_as_a_bearer_and_stops_when_revoked(client, app, make_account, tx) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    secret = _new_token(client)
    stored = tx.execute(text("SELECT id, digest, prefix, last_used_at FROM api_token "
                             "WHERE account_id = :a"), {"a": made.account_id}).one()
    assert secret not in (stored.digest, stored.prefix) and secret.startswith(stored.prefix)
    assert stored.last_used_at is None

    script = app.test_client()  # no cookie: the token alone
    bearer = {"Authorization": f"Bearer {secret}"}
    page = script.get("/account", headers=bearer)
    assert page.status_code == 200 and made.username in page.get_data(as_text=True)
    assert tx.execute(text("SELECT last_used_at FROM api_token WHERE id = :id"),
                      {"id": stored.id}).scalar_one() is not None
    token = form_token(client, "/account")
    assert client.post(f"/account/tokens/{stored.id}/revoke",
                       data={"csrf_token": token}).status_code == 302
    refused = script.get("/api/meta", headers=bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.get_json()["error"]["message"]


def test_a_bearer_post_needs_no_csrf_token(client, app, make_account, tx) -> None:
    made = make_account("planner")
    sign_in(client, made.username, PASSWORD)
    secret = _new_token(client)
    token_id = tx.execute(text("SELECT id FROM api_token WHERE account_id = :a"),
                          {"a": made.account_id}).scalar_one()
    # A browser never adds the Authorization header by itself, so no cross-site page can.
    script = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert script.post(f"/account/tokens/{token_id}/revoke", headers=bearer).status_code == 302
    assert script.get("/account", headers=bearer).status_code == 401


def test_an_unknown_token_is_401_not_the_public(app) -> None:
    answer = app.test_client().get("/api/meta", headers={"Authorization": "Bearer gmt_nope"})
    assert answer.status_code == 401


def test_one_cannot_revoke_another_persons_token(client, make_account, tx) -> None:
    owner, other = make_account("planner"), make_account("planner")
    sign_in(client, owner.username, PASSWORD)
    _new_token(client)
    token_id = tx.execute(text("SELECT id FROM api_token WHERE account_id = :a"),
                          {"a": owner.account_id}).scalar_one()
    intruder = client.application.test_client()
    sign_in(intruder, other.username, PASSWORD)
    answer = intruder.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": form_token(intruder, "/account")})
    assert answer.status_code == 404
    assert tx.execute(text("SELECT revoked_at FROM api_token WHERE id = :id"),
                      {"id": token_id}).scalar_one() is None


def test_a_token_of_a_deactivated_account_is_refused(app, login, tx) -> None:
    headers = login("planner")
    assert app.test_client().get("/account", headers=headers).status_code == 200
    tx.execute(text("UPDATE account SET active = false WHERE id = (SELECT account_id FROM "
                    "api_token ORDER BY id DESC LIMIT 1)"))
    assert app.test_client().get("/account", headers=headers).status_code == 401
