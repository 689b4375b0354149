"""The administration pages: who may open them, creating accounts (one-time password shown once),
changing roles and scopes, deactivating (a grid worker's cases go back to the community),
reactivating, resetting passwords, the audit log with its CSV, and Open311 clients.

Every change is checked for its audit entry with the values before and after.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from account_forms import PASSWORD, form_token, post_form, sign_in
from sqlalchemy import text

_ONE_TIME = re.compile(r'id="gm-one-time-password">([^<]+)<')
_CLIENT_KEY = re.compile(r'id="gm-new-client-key">([^<]+)<')
CONFIRM = {"confirm": "y"}
_FLASH = re.compile(r'class="gm-flash gm-flash-(?:error|ok)"[^>]*>([^<]+)<')


def _flash(response) -> str:  # type: ignore[no-untyped-def]
    found = _FLASH.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:800]
    return found.group(1)


def _audit(tx, action: str, target_id: object) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = tx.execute(text("SELECT username, detail, address FROM audit_log WHERE action = :a "
                           "AND target_id = :t ORDER BY id"),
                      {"a": action, "t": str(target_id)}).mappings().all()
    return [dict(r) for r in rows]


def _admin_urls(app, ids: dict[str, Any]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every administration route (from the URL map, so a new one is covered), with arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("admin", "assignments"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(ids[name]), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    assert len(urls) >= 20
    return urls


@pytest.fixture
def route_ids(make_account, grids) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    target = make_account("planner")
    return {"account_id": target.account_id, "token_id": 1, "client_id": 1,
            "code": grids[0]["code"], "department": "civil_affairs"}


def test_the_public_is_sent_to_sign_in_and_changes_nothing(app, route_ids, tx) -> None:
    public = app.test_client()
    for method, path in _admin_urls(app, route_ids):
        answer = public.open(path, method=method)
        if method == "GET":
            assert answer.status_code == 302, path
            assert answer.headers["Location"].startswith("/login?next="), path
        else:
            assert answer.status_code in (401, 403), (method, path)


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "district_centre",
                                  "department_staff", "planner"])
def test_other_roles_get_403(app, login, route_ids, tx, role: str) -> None:
    area = {"community_staff": "210103001001", "district_centre": "210103"}.get(role)
    department = "civil_affairs" if role == "department_staff" else None
    headers = login(role, area=area, department=department)
    client = app.test_client()
    for method, path in _admin_urls(app, route_ids):
        answer = client.open(path, method=method, headers=headers)
        assert answer.status_code == 403, (role, method, path, answer.status_code)


def test_data_officers_reach_assignments_only(app, login, route_ids) -> None:
    headers = login("data_officer")
    client = app.test_client()
    for method, path in _admin_urls(app, route_ids):
        if method != "GET":
            continue
        answer = client.get(path, headers=headers)
        expected = 200 if path.startswith("/admin/grids") or path == "/admin/" else 403
        assert answer.status_code == expected, (path, answer.status_code)


def test_administrators_open_every_page(app, login, route_ids) -> None:
    headers = login("admin")
    client = app.test_client()
    for method, path in _admin_urls(app, route_ids):
        if method == "GET":
            assert client.get(path, headers=headers).status_code == 200, path


def test_accounts_list_searches_and_pages(admin_client, make_account) -> None:
    made = [make_account("planner", username=f"pager-{i:03d}", name=f"翻页测试{i}")
            for i in range(55)]
    first = admin_client.get("/admin/accounts?q=pager-")
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and ">pager-000<" in body and ">pager-049<" in body
    assert ">pager-050<" not in body
    link = re.search(r'href="([^"]+)" rel="next"', body)
    assert link
    second = admin_client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert ">pager-050<" in second and ">pager-054<" in second and ">pager-049<" not in second
    by_name = admin_client.get("/admin/accounts?q=翻页测试7").get_data(as_text=True)
    assert made[7].username in by_name
    assert admin_client.get("/admin/accounts?role=nope").status_code == 400


def test_create_an_account_for_a_new_person(admin_client, app, tx) -> None:
    answer = post_form(admin_client, "/admin/accounts", {
        "username": "new.planner", "role": "planner", "name": "新规划员", "phone": "024-1234"},
        page="/admin/accounts/new")
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    password = _ONE_TIME.search(answer.get_data(as_text=True)).group(1)
    row = tx.execute(text("SELECT a.id, a.must_change_password, p.name, p.role FROM account a "
                          "JOIN person p ON p.id = a.person_id WHERE a.username = 'new.planner'"
                          )).one()
    assert row.must_change_password and row.name == "新规划员" and row.role == "staff"
    (entry,) = _audit(tx, "account_created", row.id)
    assert entry["username"] == admin_client.admin.username
    assert entry["detail"]["before"] is None
    assert entry["detail"]["after"]["role"] == "planner"
    assert password not in json.dumps(entry["detail"])
    browser = app.test_client()
    first = sign_in(browser, "new.planner", password)
    assert first.headers["Location"].startswith("/account/password")


def test_create_an_account_for_an_existing_grid_worker(admin_client, app, grids, tx) -> None:
    person_id = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g AND "
                                "role = 'grid_worker'"), {"g": grids[1]["code"]}).scalar_one()
    page = admin_client.get(f"/admin/accounts/new?person_id={person_id}").get_data(as_text=True)
    assert f'name="person_id" value="{person_id}"' in page
    answer = post_form(admin_client, "/admin/accounts", {
        "username": "worker.one", "role": "grid_worker", "person_id": person_id},
        page="/admin/accounts/new")
    assert answer.status_code == 201
    password = _ONE_TIME.search(answer.get_data(as_text=True)).group(1)
    browser = app.test_client()
    sign_in(browser, "worker.one", password)
    token = form_token(browser, "/account/password")
    browser.post("/account/password", data={"csrf_token": token, "current": password,
                                            "new": "worker-secret-9", "repeat": "worker-secret-9"})
    assert grids[1]["code"] in browser.get("/account").get_data(as_text=True)


def test_a_refused_account_shows_every_problem_and_makes_nothing(admin_client, tx) -> None:
    taken = admin_client.admin.username
    answer = post_form(admin_client, "/admin/accounts", {
        "username": taken, "role": "community_staff", "area_code": "21", "name": "某人"},
        page="/admin/accounts/new")
    assert answer.status_code == 400
    message = _flash(answer)
    assert "user name taken" in message and "12-digit" in message
    assert tx.execute(text("SELECT count(*) FROM account WHERE username = :u"),
                      {"u": taken}).scalar_one() == 1


def test_changing_a_role_ends_the_persons_sessions(admin_client, app, make_account, tx) -> None:
    target = make_account("planner")
    browser = app.test_client()
    sign_in(browser, target.username, PASSWORD)
    answer = post_form(admin_client, f"/admin/accounts/{target.account_id}/scope",
                       {"role": "district_centre", "area_code": "210103"},
                       page=f"/admin/accounts/{target.account_id}")
    assert answer.status_code == 303
    assert "重新登录" in _flash(admin_client.get(answer.headers["Location"]))
    gone = browser.get("/account")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    (entry,) = _audit(tx, "account_changed", target.account_id)
    assert entry["detail"]["before"] == {"role": "planner", "area_code": None,
                                         "department_code": None}
    assert entry["detail"]["after"] == {"role": "district_centre", "area_code": "210103",
                                        "department_code": None}
    sign_in(browser, target.username, PASSWORD)
    assert "210103" in browser.get("/account").get_data(as_text=True)


def test_a_role_change_that_breaks_a_rule_is_400_and_changes_nothing(admin_client, make_account,
                                                                     grids, tx) -> None:
    worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g AND "
                             "role = 'grid_worker'"), {"g": grids[0]["code"]}).scalar_one()
    target = make_account("grid_worker", person_id=worker)
    page = f"/admin/accounts/{target.account_id}"
    for data, words in (({"role": "planner"}, "reassign them first"),
                        ({"role": "department_staff"}, "name a department"),
                        ({"role": "grid_worker", "area_code": "210103"}, "has no area")):
        answer = post_form(admin_client, f"{page}/scope", data, page=page)
        assert answer.status_code == 400 and words in _flash(answer), data
    assert tx.execute(text("SELECT role FROM account WHERE id = :id"),
                      {"id": target.account_id}).scalar_one() == "grid_worker"
    assert not _audit(tx, "account_changed", target.account_id)


def test_the_last_administrator_stays(admin_client, tx) -> None:
    me = admin_client.admin
    tx.execute(text("UPDATE account SET active = false WHERE role = 'admin' AND id <> :id"),
               {"id": me.account_id})
    other = post_form(admin_client, f"/admin/accounts/{me.account_id}/deactivate", CONFIRM,
                      page="/admin/")
    assert other.status_code == 409  # not one's own account
    answer = post_form(admin_client, f"/admin/accounts/{me.account_id}/scope",
                       {"role": "planner"}, page="/admin/")
    assert answer.status_code == 409 and "last active administrator" in _flash(answer)


def _case(tx, grid: dict[str, Any], *, state: str, owner_kind: str | None,  # type: ignore[no-untyped-def]
          worker: int, department: str | None = None) -> int:
    return int(tx.execute(text("""
        INSERT INTO "case" (category, description, geom, grid_code, community_code,
                            subdistrict_code, district_code, channel, state, owner_kind,
                            owner_department, owner_person_id, created_by, respond_by, resolve_by)
        VALUES ('cityscape', '测试案件', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), CAST(:g AS text),
                left(CAST(:g AS text), 12), left(CAST(:g AS text), 9), left(CAST(:g AS text), 6),
                'grid_patrol', :state, :kind, :dept,
                :worker, :worker, now() + interval '1 day', now() + interval '3 days')
        RETURNING id"""), {"lon": grid["lon"], "lat": grid["lat"], "g": grid["code"],
                           "state": state, "kind": owner_kind, "dept": department,
                           "worker": worker}).scalar_one())


def test_deactivating_a_grid_worker_returns_their_grids_cases(admin_client, app, make_account,
                                                              grids, tx) -> None:
    grid, elsewhere = grids[0], grids[2]
    worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g AND "
                             "role = 'grid_worker'"), {"g": grid["code"]}).scalar_one()
    other_worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g AND "
                                   "role = 'grid_worker'"), {"g": elsewhere["code"]}).scalar_one()
    target = make_account("grid_worker", person_id=worker)
    # Cases other tests left committed in this grid (the browser tests file real ones) count too.
    earlier = tx.execute(text("""SELECT count(*) FROM "case" WHERE owner_kind = 'grid'
        AND state IN ('dispatched', 'in_progress') AND grid_code IN (SELECT grid_code
        FROM grid_member WHERE person_id = :p AND role = 'grid_worker')"""),
        {"p": worker}).scalar_one()
    returned = [_case(tx, grid, state="dispatched", owner_kind="grid", worker=worker),
                _case(tx, grid, state="in_progress", owner_kind="grid", worker=worker)]
    tx.execute(text("INSERT INTO case_cohandler (case_id, department_code) VALUES (:c, 'water')"),
               {"c": returned[1]})
    kept = {_case(tx, grid, state="dispatched", owner_kind="department", worker=worker,
                  department="water"): "dispatched",
            _case(tx, grid, state="suspended", owner_kind="grid", worker=worker): "suspended",
            _case(tx, grid, state="resolved", owner_kind="grid", worker=worker): "resolved",
            _case(tx, grid, state="reported", owner_kind=None, worker=worker): "reported",
            _case(tx, elsewhere, state="in_progress", owner_kind="grid",
                  worker=other_worker): "in_progress"}
    browser, script = app.test_client(), app.test_client()
    sign_in(browser, target.username, PASSWORD)
    token = _token_for(tx, target.account_id)
    assert script.get("/account", headers=token).status_code == 200
    page = f"/admin/accounts/{target.account_id}"
    assert f"{earlier + 2} 件未办结案件" in admin_client.get(page).get_data(as_text=True)

    answer = post_form(admin_client, f"{page}/deactivate", CONFIRM, page=page)
    assert answer.status_code == 303
    assert f"{earlier + 2} 件案件已退回社区" in _flash(admin_client.get(answer.headers["Location"]))
    rows = tx.execute(text('SELECT id, state, owner_kind, owner_person_id, version FROM "case" '
                           "WHERE id = ANY(:ids)"), {"ids": returned}).mappings().all()
    assert all(r["state"] == "returned" and r["owner_kind"] is None
               and r["owner_person_id"] is None and r["version"] == 2 for r in rows)
    events = tx.execute(text("SELECT case_id, action, from_state, to_state, actor_id, note, "
                             "payload FROM case_event WHERE case_id = ANY(:ids) ORDER BY case_id"),
                        {"ids": returned}).mappings().all()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("return", "dispatched", "returned"), ("return", "in_progress", "returned")]
    assert {e["actor_id"] for e in events} == {admin_client.admin.person_id}
    assert {e["note"] for e in events} == {"网格员账号停用，退回社区重新分派"}
    assert events[1]["payload"]["departments"] == ["water"]
    assert not tx.execute(text("SELECT count(*) FROM case_cohandler WHERE case_id = :c"),
                          {"c": returned[1]}).scalar_one()
    states = dict(tx.execute(text('SELECT id, state FROM "case" WHERE id = ANY(:ids)'),
                             {"ids": list(kept)}).all())
    assert states == kept
    gone = browser.get("/account")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    assert script.get("/account", headers=token).status_code == 401
    assert tx.execute(text("SELECT count(*) FROM api_token WHERE account_id = :a AND "
                           "revoked_at IS NULL"), {"a": target.account_id}).scalar_one() == 0
    (entry,) = _audit(tx, "account_deactivated", target.account_id)
    assert entry["detail"]["before"] == {"active": True}
    assert entry["detail"]["after"] == {"active": False}
    assert set(returned) <= set(entry["detail"]["returned_cases"])  # and any left by others
    assert len(entry["detail"]["returned_cases"]) == earlier + 2
    assert entry["detail"]["tokens_revoked"] == 1
    assert "仍登记为以上网格的网格员" in admin_client.get(page).get_data(as_text=True)


def _token_for(tx, account_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from gridmap.accounts import credentials

    secret, digest, prefix = credentials.new_secret("gmt")
    tx.execute(text("INSERT INTO api_token (account_id, name, digest, prefix) "
                    "VALUES (:a, 'script', :d, :p)"), {"a": account_id, "d": digest, "p": prefix})
    return {"Authorization": f"Bearer {secret}"}


def test_reactivate(admin_client, app, make_account, tx) -> None:
    target = make_account("planner")
    page = f"/admin/accounts/{target.account_id}"
    unconfirmed = post_form(admin_client, f"{page}/deactivate", page=page)
    assert unconfirmed.status_code == 400
    assert sign_in(app.test_client(), target.username, PASSWORD).status_code == 302
    assert post_form(admin_client, f"{page}/deactivate", CONFIRM, page=page).status_code == 303
    assert post_form(admin_client, f"{page}/deactivate", CONFIRM, page=page).status_code == 409
    assert sign_in(app.test_client(), target.username, PASSWORD).status_code == 401
    assert post_form(admin_client, f"{page}/reactivate", page=page).status_code == 303
    assert sign_in(app.test_client(), target.username, PASSWORD).status_code == 302
    (entry,) = _audit(tx, "account_reactivated", target.account_id)
    assert entry["detail"]["before"] == {"active": False}
    assert entry["detail"]["after"] == {"active": True}


def test_reset_password_shows_a_one_time_password_once(admin_client, app, make_account,
                                                       tx) -> None:
    target = make_account("planner")
    browser = app.test_client()
    sign_in(browser, target.username, PASSWORD)
    page = f"/admin/accounts/{target.account_id}"
    answer = post_form(admin_client, f"{page}/password", page=page)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    password = _ONE_TIME.search(answer.get_data(as_text=True)).group(1)
    assert password not in admin_client.get(page).get_data(as_text=True)
    assert browser.get("/account").status_code == 302  # signed out
    assert sign_in(app.test_client(), target.username, PASSWORD).status_code == 401
    fresh = sign_in(app.test_client(), target.username, password)
    assert fresh.headers["Location"].startswith("/account/password")
    (entry,) = _audit(tx, "password_reset", target.account_id)
    assert entry["detail"] == {"username": target.username,
                               "before": {"must_change_password": False},
                               "after": {"must_change_password": True}}


def test_an_administrator_revokes_someones_token(admin_client, make_account, tx) -> None:
    target = make_account("planner")
    headers = _token_for(tx, target.account_id)
    token_id = tx.execute(text("SELECT id FROM api_token WHERE account_id = :a"),
                          {"a": target.account_id}).scalar_one()
    page = f"/admin/accounts/{target.account_id}"
    answer = post_form(admin_client, f"{page}/tokens/{token_id}/revoke", page=page)
    assert answer.status_code == 303
    assert admin_client.application.test_client().get(
        "/account", headers=headers).status_code == 401
    (entry,) = _audit(tx, "token_revoked", token_id)
    assert entry["detail"] == {"before": {"revoked": False}, "after": {"revoked": True}}


def test_unknown_account_is_404(admin_client) -> None:
    assert admin_client.get("/admin/accounts/999999999").status_code == 404
    assert post_form(admin_client, "/admin/accounts/999999999/deactivate",
                     CONFIRM).status_code == 404


def test_audit_log_filters_and_pages(admin_client, make_account, tx) -> None:
    tx.execute(text("INSERT INTO audit_log (username, action, target_kind, target_id, at) "
                    "SELECT 'auditee', 'sign_in_failed', 'account', i::text, "
                    "now() - i * interval '1 minute' FROM generate_series(1, 60) i"))
    tx.execute(text("INSERT INTO audit_log (username, action, at) VALUES "
                    "('auditee', 'sign_in', now() - interval '10 days')"))
    first = admin_client.get("/admin/audit?username=auditee&action=sign_in_failed")
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and body.count("<td class=\"gm-code\">sign_in_failed</td>") == 50
    link = re.search(r'href="([^"]+)" rel="next"', body).group(1).replace("&amp;", "&")
    second = admin_client.get(link).get_data(as_text=True)
    assert second.count("<td class=\"gm-code\">sign_in_failed</td>") == 10
    assert 'rel="next"' not in second
    by_target = admin_client.get("/admin/audit?target_kind=account&target_id=7&username=auditee")
    assert by_target.get_data(as_text=True).count("sign_in_failed</td>") == 1
    day = tx.execute(text("SELECT to_char((now() - interval '10 days') AT TIME ZONE "
                          "'Asia/Shanghai', 'YYYY-MM-DD')")).scalar_one()
    dated = admin_client.get(f"/admin/audit?username=auditee&since={day}&until={day}")
    assert dated.get_data(as_text=True).count("<td class=\"gm-code\">sign_in</td>") == 1
    assert "sign_in_failed</td>" not in dated.get_data(as_text=True)


@pytest.mark.parametrize("query", ["action=drop_table", "since=yesterday",
                                   "since=2026-02-02&until=2026-02-01", "target_kind=x"])
def test_a_bad_audit_filter_is_400(admin_client, query: str) -> None:
    answer = admin_client.get(f"/admin/audit?{query}")
    assert answer.status_code == 400 and "gm-flash-error" in answer.get_data(as_text=True)
    assert admin_client.get(f"/admin/audit.csv?{query}").status_code == 400


def test_audit_csv_is_formula_safe_and_its_export_is_logged(admin_client, tx) -> None:
    tx.execute(text("INSERT INTO audit_log (username, action, target_id, detail) VALUES "
                    "('=HYPERLINK(\"http://evil\")', 'sign_in_failed', '+1', "
                    "'{\"note\": \"@SUM(1)\"}'::jsonb)"))
    answer = admin_client.get("/admin/audit.csv?action=sign_in_failed")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    evil = next(r for r in rows if "HYPERLINK" in r["username"])
    assert evil["username"].startswith("'=") and evil["target_id"] == "'+1"
    assert json.loads(evil["detail"]) == {"note": "@SUM(1)"}
    for row in rows:
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r", row
    logged = tx.execute(text("SELECT detail FROM audit_log WHERE action = 'audit_exported' "
                             "ORDER BY id DESC LIMIT 1")).scalar_one()
    assert logged == {"filters": {"action": "sign_in_failed"}}


def test_open311_clients_are_made_used_and_revoked(admin_client, app, grids, tx) -> None:
    answer = post_form(admin_client, "/admin/open311", {"name": "12345 热线", "contact": "王工"},
                       page="/admin/open311")
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    key = _CLIENT_KEY.search(answer.get_data(as_text=True)).group(1)
    client_id = tx.execute(text("SELECT id FROM open311_client WHERE name = '12345 热线'")
                           ).scalar_one()
    assert key not in admin_client.get("/admin/open311").get_data(as_text=True)
    form = {"service_code": "gas", "lat": grids[0]["lat"], "long": grids[0]["lon"],
            "api_key": key}
    assert app.test_client().post("/open311/v2/requests.json", data=form).status_code == 200
    listed = admin_client.get("/admin/open311").get_data(as_text=True)
    assert "从未" not in listed.split("12345 热线")[1].split("</tr>")[0]
    revoked = post_form(admin_client, f"/admin/open311/{client_id}/revoke", page="/admin/open311")
    assert revoked.status_code == 303
    assert app.test_client().post("/open311/v2/requests.json", data=form).status_code == 403
    assert post_form(admin_client, f"/admin/open311/{client_id}/revoke").status_code == 404
    (made,) = _audit(tx, "open311_client_created", client_id)
    assert made["detail"]["before"] is None and made["detail"]["after"]["name"] == "12345 热线"
    assert key not in json.dumps(made["detail"])
    (gone,) = _audit(tx, "open311_client_revoked", client_id)
    assert gone["detail"] == {"before": {"revoked": False}, "after": {"revoked": True}}
    assert post_form(admin_client, "/admin/open311", {"name": ""}).status_code == 400


def test_pages_in_english(admin_client) -> None:
    body = admin_client.get("/admin/?lang=en").get_data(as_text=True)
    assert "Grid assignments" in body and "Audit log" in body and "网格分配" not in body
    form = admin_client.get("/admin/accounts/new?lang=en").get_data(as_text=True)
    assert "New person and account" in form and "Water" in form  # departments in English


def test_the_account_forms_pick_the_area_by_name(admin_client, make_account) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the area is picked by name (js/pickers.js), the form still posts area_code, and
    no browser pattern decides what a good area is."""
    target = make_account("community_staff", area="210103001001")
    for path in ("/admin/accounts/new", f"/admin/accounts/{target.account_id}"):
        page = admin_client.get(path).get_data(as_text=True)
        tag = re.search(r'<input[^>]*id="gm-area-code"[^>]*>', page)
        assert tag and "pattern=" not in tag.group(0) and 'name="area_code"' in tag.group(0), path
        assert 'data-area-field="district subdistrict community"' in tag.group(0)
        assert "js/pickers.js" in page and "js/area-field.js" in page and 'id="gm-picker-strings"' in page
        assert 'id="gm-area-code-problem"' in page
    assert 'value="210103001001"' in page  # the existing code, which the picker shows by name


def test_an_account_s_scope_names_its_area(admin_client, make_account, tx) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the account's facts and the accounts list name the area, not only its code."""
    code, name = tx.execute(text("SELECT code, name FROM community ORDER BY code LIMIT 1")).one()
    target = make_account("community_staff", area=code)
    page = admin_client.get(f"/admin/accounts/{target.account_id}").get_data(as_text=True)
    assert re.search(rf"<dd[^>]*>{re.escape(name)} {code}</dd>", page), page[:2000]
    listing = admin_client.get("/admin/accounts", query_string={"q": target.username})
    assert f"{name} {code}" in listing.get_data(as_text=True)
