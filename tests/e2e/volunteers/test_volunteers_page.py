"""The volunteers page and the Party map in a real Chromium (live server, real PostGIS): community
staff on a phone hand a visit's need to a team, record a volunteer accepting it and finishing it
with hours, and see the points in the ranking; the public sees the teams and masked names only;
the Party map draws branches, groups and household counts. In Chinese and in English."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import Accounts, TestAccount, open_probe, sign_in
from sqlalchemy import Engine, text

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def need(engine: Engine, owner_engine: Engine, accounts: Accounts) -> Iterator[dict[str, Any]]:
    """A committed team with a volunteer, a care visit that found a need in its community, and
    a community staff account; removed afterwards."""
    tag = uuid.uuid4().hex[:6]
    with engine.begin() as conn:
        row = conn.execute(text("""
            SELECT m.person_id, b.id AS building_id, b.grid_code
            FROM grid_member m JOIN building b ON b.grid_code = m.grid_code
            WHERE m.role = 'grid_worker' ORDER BY m.grid_code, b.id LIMIT 1""")).mappings().one()
        community = row["grid_code"][:12]
        team = conn.execute(text("INSERT INTO volunteer_team (community_code, name, skills) "
                                 "VALUES (:c, :n, '{repair}') RETURNING id"),
                            {"c": community, "n": f"红马甲{tag}"}).scalar_one()
        volunteer = conn.execute(text(
            "INSERT INTO volunteer (team_id, name, phone, skills, availability) VALUES "
            "(:t, :n, '13655556666', '{repair}', '周末') RETURNING id"),
            {"t": team, "n": f"志愿者{tag}"}).scalar_one()
        conn.execute(text("UPDATE volunteer_team SET leader_id = :v WHERE id = :t"),
                     {"v": volunteer, "t": team})
        entry = conn.execute(text("INSERT INTO care_entry (building_id, name, created_by) "
                                  "VALUES (:b, :n, :p) RETURNING id"),
                             {"b": row["building_id"], "n": f"关爱{tag}",
                              "p": row["person_id"]}).scalar_one()
        visit = conn.execute(text(
            "INSERT INTO care_visit (entry_id, visited_at, visitor_id, findings, needs_help, "
            "synthetic) VALUES (:e, now(), :p, '水管漏水', true, true) RETURNING id"),
            {"e": entry, "p": row["person_id"]}).scalar_one()
    staff: TestAccount = accounts.create("community_staff", area_code=community,
                                          name="社区干部")
    try:
        yield {"community": community, "team": team, "volunteer": f"志愿者{tag}",
               "visit": visit, "account": staff}
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM volunteer_task WHERE team_id = :t"), {"t": team})
            conn.execute(text("UPDATE volunteer_team SET leader_id = NULL WHERE id = :t"),
                         {"t": team})
            conn.execute(text("DELETE FROM volunteer WHERE team_id = :t"), {"t": team})
            conn.execute(text("DELETE FROM volunteer_team WHERE id = :t"), {"t": team})
            conn.execute(text("DELETE FROM care_visit WHERE id = :v"), {"v": visit})
            conn.execute(text("DELETE FROM care_entry WHERE id = :e"), {"e": entry})


@pytest.fixture(scope="module")
def party(engine: Engine, owner_engine: Engine) -> Iterator[None]:
    """The demo's Party organisation, committed (the test database is loaded without it), and
    removed afterwards."""
    from sqlalchemy.orm import Session

    from gridmap.demo.services.volunteers import write_demo_party

    with Session(engine) as session, session.begin():
        write_demo_party(session, seed=5)
    try:
        yield
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM grid_member m USING party_household h "
                              "WHERE m.person_id = h.person_id AND m.role = 'party_household'"))
            conn.execute(text("UPDATE volunteer_team SET leader_id = NULL WHERE synthetic"))
            for table in ("volunteer", "volunteer_team", "party_household", "party_group",
                          "party_branch_grid", "party_branch"):
                # The names are this list's, never a request's.
                conn.execute(text(f"DELETE FROM {table} WHERE "  # noqa: S608
                                  + ("synthetic" if table != "party_branch_grid" else
                                     "branch_id IN (SELECT id FROM party_branch WHERE synthetic)")))


def _wait_text(page: Any, selector: str, wanted: str) -> None:
    page.wait_for_function("([s, t]) => { const el = document.querySelector(s); "
                           "return el && el.textContent.includes(t); }",
                           arg=[selector, wanted], timeout=TIMEOUT_MS)


@pytest.mark.parametrize(("locale", "done_label", "points"), [
    ("zh-CN", "已完成", "25 分"), ("en", "Done", "25 points")])
def test_staff_publish_a_visits_need_and_record_it_done(browser: Any, live_server: str,
                                                        engine: Engine, need: dict[str, Any],
                                                        locale: str, done_label: str,
                                                        points: str) -> None:
    with engine.begin() as conn:  # each language publishes the visit's need afresh
        conn.execute(text("UPDATE volunteer_task SET state = 'cancelled', note = 'e2e' "
                          "WHERE visit_id = :v AND state <> 'done'"), {"v": need["visit"]})
        conn.execute(text("DELETE FROM volunteer_task WHERE visit_id = :v AND state = 'done'"),
                     {"v": need["visit"]})
    lang = "&lang=en" if locale == "en" else ""
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, locale=locale) as probe:
        page = probe.page
        sign_in(page, need["account"], next_path=f"/volunteers?visit={need['visit']}{lang}")
        page.locator(f'#gv-teams [data-team-id="{need["team"]}"]').wait_for(timeout=TIMEOUT_MS)
        form = page.locator("#gv-publish-form")
        assert form.locator("[name=source]").input_value() == "visit"
        form.locator("[name=team_id]").select_option(str(need["team"]))
        form.locator("[name=title]").fill("上门修水管")
        form.locator("button[type=submit]").click()
        task = page.locator("#gv-tasks .gv-task-open").first
        task.wait_for(timeout=TIMEOUT_MS)
        task.locator("select").select_option(label=need["volunteer"])
        task.locator("button.gv-button-primary").click()
        accepted = page.locator("#gv-tasks .gv-task-accepted").first
        accepted.wait_for(timeout=TIMEOUT_MS)
        accepted.locator("input[name=hours]").fill("2")
        accepted.locator("button.gv-button-primary").click()
        _wait_text(page, "#gv-tasks", done_label)
        _wait_text(page, "#gv-ranking", points)
        probe.screenshot(f"volunteers-staff-{locale}")
    with engine.connect() as conn:
        done = conn.execute(text("SELECT state, hours, points FROM volunteer_task "
                                 "WHERE visit_id = :v AND state = 'done'"),
                            {"v": need["visit"]}).one()
    assert (done.state, float(done.hours), done.points) == ("done", 2.0, 25)


def test_the_public_sees_teams_and_masked_names(browser: Any, live_server: str,
                                                need: dict[str, Any]) -> None:
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True) as probe:
        page = probe.page
        page.goto(f"/volunteers?community={need['community']}")
        page.locator(f'#gv-teams [data-team-id="{need["team"]}"]').wait_for(timeout=TIMEOUT_MS)
        body = page.locator("main").inner_text()
        assert need["volunteer"] not in body and "13655556666" not in body
        assert need["volunteer"][0] + "*" in body
        assert page.locator("#gv-publish").is_hidden()
        assert page.locator("#gv-tasks-section").is_hidden()
        probe.screenshot("volunteers-public")


def test_the_party_map_draws_branches_groups_and_counts(browser: Any, live_server: str,
                                                       need: dict[str, Any], party: None) -> None:
    with open_probe(browser, live_server) as probe:
        page = probe.page
        sign_in(page, need["account"], next_path="/party")
        page.wait_for_function("() => /^[0-9]+$/.test(document.getElementById('gv-n-groups')"
                               ".textContent)", timeout=30_000)
        assert int(page.locator("#gv-n-branches").inner_text()) > 100
        paths = page.locator("#gv-party-map path.leaflet-interactive")
        outlines = paths.count()
        assert outlines > 100
        probe.screenshot("party-map-staff")
        for _ in range(3):  # to street zoom, where the groups and households are drawn
            page.locator(".leaflet-control-zoom-in").click()
            page.wait_for_timeout(400)
        page.wait_for_function("n => document.querySelectorAll('#gv-party-map "
                               "path.leaflet-interactive').length > n + 1000", arg=outlines,
                               timeout=TIMEOUT_MS)
        probe.screenshot("party-map-street-zoom")
