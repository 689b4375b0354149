"""The escalation rules page (督办规则, administrators): hours past the deadline and whether a
rule applies are changed, checked, audit-logged, and used by the next escalation run."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gridmap.supervision.services.escalation import escalate_in

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE = "/admin/supervision"


def _token(client, headers) -> str:  # type: ignore[no-untyped-def]
    found = _CSRF.search(client.get(PAGE, headers=headers).get_data(as_text=True))
    assert found
    return found.group(1)


def _rule(tx: Connection, code: str) -> tuple[float, bool]:
    row = tx.execute(text("SELECT after_hours, active FROM supervision_rule WHERE code = :c"),
                     {"c": code}).one()
    return float(row.after_hours), bool(row.active)


def test_the_page_lists_the_chain_for_administrators_only(api, login) -> None:  # type: ignore[no-untyped-def]
    page = api.get(PAGE, headers=login("admin"))
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for code in ("respond_community", "resolve_community", "resolve_subdistrict",
                 "resolve_district"):
        assert f'data-code="{code}"' in body
    assert "社区 → 街道" in body and "街道 → 区指挥中心" in body
    assert api.get(PAGE, headers=login("district_centre", area="210103")).status_code == 403
    assert api.get(PAGE).status_code == 302  # to the sign-in page


def test_an_administrator_changes_a_rule_and_the_job_follows_it(app, login, tx) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    browser = app.test_client()
    before = _rule(tx, "respond_community")
    answer = browser.post(f"{PAGE}/rules/respond_community", headers=admin,
                          data={"csrf_token": _token(browser, admin), "after_hours": "6.5",
                                "active": "y"})
    assert answer.status_code == 303
    assert _rule(tx, "respond_community") == (6.5, True)
    entry = tx.execute(text("SELECT detail FROM audit_log WHERE action = "
                            "'supervision_rule_changed' AND target_id = 'respond_community' "
                            "ORDER BY id DESC LIMIT 1")).scalar_one()
    assert entry == {"before": {"after_hours": before[0], "active": before[1]},
                     "after": {"after_hours": 6.5, "active": True}}

    # A case 3 hours past its response deadline now waits; switched off, no rule fires at all.
    case_id = _overdue_case(tx, hours_past=3)
    session = Session(bind=tx)
    assert _notices(tx, case_id) == 0
    escalate_in(session, channel="log", now=datetime.now(UTC))
    assert _notices(tx, case_id) == 0
    browser.post(f"{PAGE}/rules/respond_community", headers=admin,
                 data={"csrf_token": _token(browser, admin), "after_hours": "0"})  # unticked
    assert _rule(tx, "respond_community") == (0.0, False)
    escalate_in(session, channel="log", now=datetime.now(UTC))
    assert _notices(tx, case_id) == 0
    browser.post(f"{PAGE}/rules/respond_community", headers=admin,
                 data={"csrf_token": _token(browser, admin), "after_hours": "0", "active": "y"})
    escalate_in(session, channel="log", now=datetime.now(UTC))
    assert _notices(tx, case_id) == 1


def test_bad_hours_are_refused_and_change_nothing(app, login, tx) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    browser = app.test_client()
    before = _rule(tx, "resolve_district")
    for bad in ("abc", "-1", "1e9", "nan", "inf", ""):
        answer = browser.post(f"{PAGE}/rules/resolve_district", headers=admin,
                              data={"csrf_token": _token(browser, admin), "after_hours": bad,
                                    "active": "y"})
        assert answer.status_code == 400, bad
        assert "小时数" in answer.get_data(as_text=True)
    assert _rule(tx, "resolve_district") == before
    missing = browser.post(f"{PAGE}/rules/no_such_rule", headers=admin,
                           data={"csrf_token": _token(browser, admin), "after_hours": "1"})
    assert missing.status_code == 404


def _overdue_case(tx: Connection, *, hours_past: float) -> int:
    grid = tx.execute(text("SELECT g.code, ST_X(ST_PointOnSurface(g.geom)) AS lon, "
                           "ST_Y(ST_PointOnSurface(g.geom)) AS lat, m.person_id "
                           "FROM grid g JOIN grid_member m ON m.grid_code = g.code "
                           "AND m.role = 'grid_worker' ORDER BY g.code LIMIT 1")).one()
    now = datetime.now(UTC)
    case_id: int = tx.execute(text("""
        INSERT INTO "case" (category, description, geom, grid_code, community_code,
                            subdistrict_code, district_code, channel, state, owner_kind,
                            owner_person_id, created_by, created_at, respond_by, resolve_by)
        VALUES ((SELECT code FROM case_category ORDER BY code LIMIT 1), '督办规则测试',
                ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :g, :community, :subdistrict,
                :district, 'grid_patrol', 'dispatched', 'grid', :p, :p, :created,
                :respond_by, :resolve_by) RETURNING id"""),
        {"lon": grid.lon, "lat": grid.lat, "g": grid.code, "community": grid.code[:12],
         "subdistrict": grid.code[:9], "district": grid.code[:6], "p": grid.person_id,
         "created": now - timedelta(hours=hours_past + 2),
         "respond_by": now - timedelta(hours=hours_past),
         "resolve_by": now + timedelta(days=5)}).scalar_one()
    return case_id


def _notices(tx: Connection, case_id: int) -> int:
    found: int = tx.execute(text("SELECT count(*) FROM supervision_notice WHERE case_id = :c"),
                            {"c": case_id}).scalar_one()
    return found
