"""网格分配: a grid's worker (one per grid: a new one replaces the old) and each department's
enrolled staff member, for administrators everywhere and data officers inside their district.
Scope follows at once: a worker's grids are read at every request."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from account_forms import PASSWORD, post_form, sign_in
from sqlalchemy import text

_FLASH = re.compile(r'class="gm-flash gm-flash-(?:error|ok)"[^>]*>([^<]+)<')


def _flash(response) -> str:  # type: ignore[no-untyped-def]
    found = _FLASH.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:800]
    return found.group(1)


def _worker(tx, grid: str) -> int | None:  # type: ignore[no-untyped-def]
    return tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g AND "
                           "role = 'grid_worker'"), {"g": grid}).scalar_one_or_none()


def _enrolled(tx, grid: str, department: str) -> int | None:  # type: ignore[no-untyped-def]
    return tx.execute(text("SELECT person_id FROM grid_enrollment WHERE grid_code = :g AND "
                           "department_code = :d"), {"g": grid, "d": department}
                      ).scalar_one_or_none()


def _name(tx, person_id: int) -> str:  # type: ignore[no-untyped-def]
    return str(tx.execute(text("SELECT name FROM person WHERE id = :p"),
                          {"p": person_id}).scalar_one())


def _card(tx, grid: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return dict(json.loads(tx.execute(text("SELECT card_zh FROM grid_card WHERE grid_code = :g"),
                                      {"g": grid}).scalar_one()))


def _entries(tx, action: str, grid: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return list(tx.execute(text("SELECT detail FROM audit_log WHERE action = :a AND "
                                "target_kind = 'grid' AND target_id = :g ORDER BY id"),
                           {"a": action, "g": grid}).scalars())


def test_the_grid_list_searches_in_scope(admin_client, grids) -> None:
    body = admin_client.get(f"/admin/grids/?q={grids[0]['code']}").get_data(as_text=True)
    assert grids[0]["name"] in body and grids[2]["code"] not in body
    by_name = admin_client.get(f"/admin/grids/?q={grids[2]['name']}").get_data(as_text=True)
    assert grids[2]["code"] in by_name
    first = admin_client.get("/admin/grids/").get_data(as_text=True)
    assert 'rel="next"' in first and first.count("/admin/grids/2101") >= 50


def test_a_new_worker_replaces_the_old_one(admin_client, app, make_account, grids, tx) -> None:
    grid, other = grids[0]["code"], grids[2]["code"]
    old, new = _worker(tx, grid), _worker(tx, other)
    assert old and new and old != new
    new_account = make_account("grid_worker", person_id=new)
    browser = app.test_client()
    sign_in(browser, new_account.username, PASSWORD)
    assert grid not in browser.get("/account").get_data(as_text=True)
    page = admin_client.get(f"/admin/grids/{grid}?worker_q={new}").get_data(as_text=True)
    assert "替换现任网格员" in page and _name(tx, new) in page

    answer = post_form(admin_client, f"/admin/grids/{grid}/worker", {"person_id": new},
                       page=f"/admin/grids/{grid}")
    assert answer.status_code == 303
    message = _flash(admin_client.get(answer.headers["Location"]))
    assert _name(tx, old) in message and _name(tx, new) in message
    assert _worker(tx, grid) == new and _worker(tx, other) == new  # serves both now
    assert _card(tx, grid)["grid_worker"]["name"] == _name(tx, new)
    assert grid in browser.get("/account").get_data(as_text=True)  # scope follows at once
    (entry,) = _entries(tx, "assignment_changed", grid)
    assert entry == {"post": "grid_worker", "before": {"person_id": old, "name": _name(tx, old)},
                     "after": {"person_id": new, "name": _name(tx, new)}}
    again = post_form(admin_client, f"/admin/grids/{grid}/worker", {"person_id": new})
    assert again.status_code == 303 and len(_entries(tx, "assignment_changed", grid)) == 1


def test_remove_a_worker(admin_client, grids, tx) -> None:
    grid = grids[1]["code"]
    old = _worker(tx, grid)
    answer = post_form(admin_client, f"/admin/grids/{grid}/worker/remove")
    assert answer.status_code == 303 and _worker(tx, grid) is None
    assert _card(tx, grid)["grid_worker"] is None
    assert "没有网格员" in admin_client.get(f"/admin/grids/{grid}").get_data(as_text=True)
    (entry,) = _entries(tx, "assignment_changed", grid)
    assert entry["before"]["person_id"] == old and entry["after"] is None
    assert post_form(admin_client, f"/admin/grids/{grid}/worker/remove").status_code == 400


@pytest.mark.parametrize("who", ["department_staff", "missing", "deactivated"])
def test_only_an_active_grid_worker_can_serve(admin_client, make_account, grids, tx,
                                              who: str) -> None:
    grid = grids[0]["code"]
    before = _worker(tx, grid)
    if who == "department_staff":
        person = _enrolled(tx, grid, "water")
    elif who == "missing":
        person = 999_999_999_999
    else:
        person = _worker(tx, grids[2]["code"])
        made = make_account("grid_worker", person_id=person)
        tx.execute(text("UPDATE account SET active = false WHERE id = :a"),
                   {"a": made.account_id})
    answer = post_form(admin_client, f"/admin/grids/{grid}/worker", {"person_id": person})
    assert answer.status_code == 400
    assert re.search(r"not a grid worker|no such person|deactivated", _flash(answer))
    assert _worker(tx, grid) == before and not _entries(tx, "assignment_changed", grid)


def test_enrol_a_departments_staff_member(admin_client, app, make_account, grids, tx) -> None:
    grid, other = grids[0]["code"], grids[2]["code"]
    old, new = _enrolled(tx, grid, "water"), _enrolled(tx, other, "water")
    assert old and new and old != new
    staff = make_account("department_staff", person_id=new, department="water")
    browser = app.test_client()
    sign_in(browser, staff.username, PASSWORD)
    page = admin_client.get(f"/admin/grids/{grid}?department=water&staff_q={new}")
    assert _name(tx, new) in page.get_data(as_text=True)
    answer = post_form(admin_client, f"/admin/grids/{grid}/enrolments",
                       {"department_code": "water", "person_id": new})
    assert answer.status_code == 303 and _enrolled(tx, grid, "water") == new
    assert grid in browser.get("/account").get_data(as_text=True)
    departments = {d["code"]: d["staff"] for d in _card(tx, grid)["departments"]}
    assert departments["water"] == _name(tx, new)
    (entry,) = _entries(tx, "enrolment_changed", grid)
    assert entry == {"department": "water",
                     "before": {"person_id": old, "name": _name(tx, old)},
                     "after": {"person_id": new, "name": _name(tx, new)}}
    wrong = post_form(admin_client, f"/admin/grids/{grid}/enrolments",
                      {"department_code": "gas", "person_id": new})
    assert wrong.status_code == 400 and "not staff of gas" in _flash(wrong)
    unknown = post_form(admin_client, f"/admin/grids/{grid}/enrolments",
                        {"department_code": "nope", "person_id": new})
    assert unknown.status_code == 400 and "unknown department" in _flash(unknown)
    removed = post_form(admin_client, f"/admin/grids/{grid}/enrolments/water/remove")
    assert removed.status_code == 303 and _enrolled(tx, grid, "water") is None
    assert grid not in browser.get("/account").get_data(as_text=True)
    assert _entries(tx, "enrolment_changed", grid)[-1]["after"] is None


def test_a_data_officer_assigns_inside_their_district_only(app, make_account, grids, tx) -> None:
    inside = make_account("data_officer", area="210103")
    outside = make_account("data_officer", area="210104")
    grid, other = grids[0]["code"], grids[2]["code"]
    new = _worker(tx, other)
    mine = app.test_client()
    sign_in(mine, inside.username, PASSWORD)
    assert mine.get(f"/admin/grids/{grid}").status_code == 200
    answer = post_form(mine, f"/admin/grids/{grid}/worker", {"person_id": new})
    assert answer.status_code == 303 and _worker(tx, grid) == new
    theirs = app.test_client()
    sign_in(theirs, outside.username, PASSWORD)
    assert theirs.get(f"/admin/grids/{grid}").status_code == 404
    assert "2101030" not in theirs.get("/admin/grids/").get_data(as_text=True)
    refused = post_form(theirs, f"/admin/grids/{grid}/worker/remove")
    assert refused.status_code == 404 and _worker(tx, grid) == new
    assert theirs.get("/admin/accounts").status_code == 403


def test_an_unknown_grid_is_404(admin_client) -> None:
    assert admin_client.get("/admin/grids/210103999999999").status_code == 404
    assert admin_client.get("/admin/grids/abc").status_code == 404
