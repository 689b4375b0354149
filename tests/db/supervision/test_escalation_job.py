"""The escalation job on a real PostGIS: notices, events, inbox and outbox, once only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.supervision.services.escalation import EscalationResult, escalate_in

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def grid(db_session: Session) -> dict[str, Any]:
    """A grid with its worker, and staff accounts at its community, sub-district and district."""
    row = db_session.execute(text("""
        SELECT g.code, g.community_code, c.subdistrict_code, s.district_code,
               ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat,
               (SELECT person_id FROM grid_member m
                WHERE m.grid_code = g.code AND m.role = 'grid_worker') AS worker
        FROM grid g JOIN community c ON c.code = g.community_code
        JOIN subdistrict s ON s.code = c.subdistrict_code
        WHERE EXISTS (SELECT 1 FROM grid_member m WHERE m.grid_code = g.code
                      AND m.role = 'grid_worker')
        ORDER BY g.code LIMIT 1""")).mappings().one()
    g = dict(row)
    for role, area in (("community_staff", g["community_code"]),
                       ("subdistrict_staff", g["subdistrict_code"]),
                       ("district_centre", g["district_code"])):
        person = db_session.execute(text(
            "INSERT INTO person (name, role) VALUES (:n, 'staff') RETURNING id"),
            {"n": f"测试{role}"}).scalar_one()
        db_session.execute(text(
            "INSERT INTO account (username, person_id, role, area_code, password_hash, email) "
            "VALUES (:u, :p, :r, :a, 'x', :e)"),
            {"u": f"t{uuid.uuid4().hex[:12]}", "p": person, "r": role, "a": area,
             "e": f"{role}@example.cn"})
        g[role] = person
    return g


def _case(session: Session, g: dict[str, Any], *, reported: datetime, respond_h: float = 2,
          resolve_h: float = 48, state: str = "dispatched", responded: datetime | None = None,
          resolved: datetime | None = None) -> int:
    case_id: int = session.execute(text("""
        INSERT INTO "case" (category, description, geom, grid_code, community_code,
                            subdistrict_code, district_code, channel, state, owner_kind,
                            owner_person_id, created_by, created_at, respond_by, resolve_by,
                            responded_at, resolved_at)
        VALUES ((SELECT code FROM case_category ORDER BY code LIMIT 1), '测试督办',
                ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :grid, :community, :subdistrict,
                :district, 'grid_patrol', :state, 'grid', :worker, :worker, :reported,
                :respond_by, :resolve_by, :responded, :resolved)
        RETURNING id"""), {
        "lon": g["lon"], "lat": g["lat"], "grid": g["code"], "community": g["community_code"],
        "subdistrict": g["subdistrict_code"], "district": g["district_code"], "state": state,
        "worker": g["worker"], "reported": reported, "respond_by": reported + respond_h * H,
        "resolve_by": reported + resolve_h * H, "responded": responded,
        "resolved": resolved}).scalar_one()
    return case_id


def _counts(session: Session, case_id: int) -> dict[str, int]:
    row = session.execute(text("""
        SELECT (SELECT count(*) FROM supervision_notice WHERE case_id = :c) AS notices,
               (SELECT count(*) FROM case_event WHERE case_id = :c
                  AND action = 'supervise') AS events,
               (SELECT count(*) FROM inbox_item WHERE case_id = :c) AS inbox,
               (SELECT count(*) FROM notification_outbox
                  WHERE (payload ->> 'case_id')::bigint = :c) AS outbox
    """), {"c": case_id}).mappings().one()
    return dict(row)


def test_an_unanswered_case_is_escalated_once_even_when_the_job_runs_twice(
        db_session: Session, grid: dict[str, Any]) -> None:
    case_id = _case(db_session, grid, reported=NOW - 3 * H)  # respond_by was an hour ago
    first = escalate_in(db_session, channel="log", now=NOW)
    assert first.notices >= 1
    assert _counts(db_session, case_id) == {"notices": 1, "events": 1, "inbox": 2, "outbox": 2}
    notice = db_session.execute(text(
        "SELECT n.level, n.deadline, n.recipients, r.code FROM supervision_notice n "
        "JOIN supervision_rule r ON r.id = n.rule_id WHERE n.case_id = :c"),
        {"c": case_id}).one()
    assert (notice.level, notice.deadline, notice.code) == ("community", "respond",
                                                           "respond_community")
    assert sorted(notice.recipients) == sorted([grid["worker"], grid["community_staff"]])
    inbox = db_session.execute(text(
        "SELECT person_id, kind, text FROM inbox_item WHERE case_id = :c ORDER BY person_id"),
        {"c": case_id}).all()
    assert {r.person_id for r in inbox} == {grid["worker"], grid["community_staff"]}
    assert all(r.kind == "supervision" and r.text.startswith("督办：案件") and "(supervision:"
               in r.text for r in inbox)
    event = db_session.execute(text(
        "SELECT actor_id, from_state, to_state, payload FROM case_event "
        "WHERE case_id = :c AND action = 'supervise'"), {"c": case_id}).one()
    assert event.actor_id is None and event.from_state == event.to_state == "dispatched"
    assert event.payload["level"] == "community"

    second = escalate_in(db_session, channel="log", now=NOW + timedelta(minutes=5))
    assert second == EscalationResult()
    assert _counts(db_session, case_id) == {"notices": 1, "events": 1, "inbox": 2, "outbox": 2}


def test_a_long_overdue_case_climbs_the_chain_in_one_run(
        db_session: Session, grid: dict[str, Any]) -> None:
    case_id = _case(db_session, grid, reported=NOW - 200 * H, responded=NOW - 199 * H)
    escalate_in(db_session, channel="email", now=NOW)
    levels = db_session.execute(text(
        "SELECT level FROM supervision_notice WHERE case_id = :c ORDER BY id"),
        {"c": case_id}).scalars().all()
    assert levels == ["community", "subdistrict", "district"]
    # E-mail reaches only accounts with an address: the three staff, not the grid worker.
    recipients = db_session.execute(text(
        "SELECT recipient FROM notification_outbox WHERE channel = 'email' "
        "AND (payload ->> 'case_id')::bigint = :c ORDER BY recipient"),
        {"c": case_id}).scalars().all()
    assert recipients == ["community_staff@example.cn", "district_centre@example.cn",
                          "subdistrict_staff@example.cn"]
    assert escalate_in(db_session, channel="email", now=NOW + H) == EscalationResult()


@pytest.mark.parametrize(("name", "kwargs"), [
    ("not yet due", {"reported": NOW - H}),
    ("closed", {"reported": NOW - 100 * H, "state": "closed"}),
    ("suspended", {"reported": NOW - 100 * H, "state": "suspended"}),
    ("answered and resolved late", {"reported": NOW - 100 * H, "responded": NOW - 90 * H,
                                    "resolved": NOW - 10 * H, "state": "resolved"}),
])
def test_cases_that_are_not_escalated(db_session: Session, grid: dict[str, Any], name: str,
                                      kwargs: dict[str, Any]) -> None:
    case_id = _case(db_session, grid, **kwargs)
    escalate_in(db_session, channel="log", now=NOW)
    assert _counts(db_session, case_id)["notices"] == 0, name


def test_the_next_step_waits_for_its_hours(db_session: Session, grid: dict[str, Any]) -> None:
    case_id = _case(db_session, grid, reported=NOW - 60 * H, responded=NOW - 59 * H)
    escalate_in(db_session, channel="log", now=NOW)  # 12 h past resolution: community
    escalate_in(db_session, channel="log", now=NOW + 11 * H)  # 23 h: still the community
    assert _counts(db_session, case_id)["notices"] == 1
    escalate_in(db_session, channel="log", now=NOW + 13 * H)  # 25 h: the sub-district
    assert db_session.execute(text(
        "SELECT array_agg(level ORDER BY id) FROM supervision_notice WHERE case_id = :c"),
        {"c": case_id}).scalar_one() == ["community", "subdistrict"]


# The job's SQL and the pure function agree: each scenario runs through both.
SCENARIOS = [
    # (reported hours before NOW, responded after h, resolved after h, state, runs at +h)
    (1, None, None, "dispatched", [0]),
    (3, None, None, "dispatched", [0]),
    (3, 1, None, "in_progress", [0]),
    (60, 1, None, "in_progress", [0, 11, 13]),
    (200, None, None, "dispatched", [0]),
    (200, 1, None, "in_progress", [0, 1]),
    (200, 1, 150, "resolved", [0]),
    (200, None, None, "suspended", [0]),
    (200, None, None, "closed", [0]),
    (50, None, None, "returned", [0, 30, 100]),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s[0]}h-{s[3]}-{s[4]}")
def test_the_job_and_the_pure_function_agree(db_session: Session, grid: dict[str, Any],
                                             scenario: tuple[Any, ...]) -> None:
    from gridmap.supervision.escalation import CaseDue, Deadline, Level, Rule, due_rules
    from gridmap.supervision.services.escalation import INACTIVE_STATES

    reported_h, responded_h, resolved_h, state, runs = scenario
    reported = NOW - reported_h * H
    responded = reported + responded_h * H if responded_h is not None else None
    resolved = reported + resolved_h * H if resolved_h is not None else None
    case_id = _case(db_session, grid, reported=reported, state=state, responded=responded,
                    resolved=resolved)
    rules = [Rule(r.code, Deadline(r.deadline), r.after_hours, Level(r.from_level),
                  Level(r.to_level)) for r in db_session.execute(text(
                      "SELECT code, deadline, after_hours, from_level, to_level "
                      "FROM supervision_rule WHERE active ORDER BY sort_order, id"))]
    fired: list[str] = []
    level = Level.GRID
    for run_h in runs:
        now = NOW + run_h * H
        expected = due_rules(CaseDue(respond_by=reported + 2 * H, resolve_by=reported + 48 * H,
                                     responded_at=responded, resolved_at=resolved,
                                     open=state not in INACTIVE_STATES, level=level,
                                     fired=frozenset(fired)), rules, now=now)
        escalate_in(db_session, channel="log", now=now)
        got = db_session.execute(text(
            "SELECT r.code FROM supervision_notice n JOIN supervision_rule r ON r.id = n.rule_id "
            "WHERE n.case_id = :c ORDER BY n.id"), {"c": case_id}).scalars().all()
        fired += [r.code for r in expected]
        assert got == fired, (run_h, got, fired)
        level = expected[-1].to_level if expected else level
