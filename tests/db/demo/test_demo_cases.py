"""Demo cases on a real PostGIS: loaded rows agree with their histories, and every history is one
the workflow allows (replayed through workflow.apply with the recorded actors, each as they
would be signed in with their post's account)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.cases import workflow
from gridmap.cases.repositories import cases as case_repo
from gridmap.demo.generator.cases import generate_cases
from gridmap.demo.services.cases import load_demo_cases, read_case_inputs

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
COUNT = 600
SEED = 7


@pytest.fixture
def loaded(connection: Connection, db_session: Session) -> dict[str, int]:
    """COUNT demo cases loaded into the test's rolled-back transaction.

    The views new_case, new_event and new_cohandler show only these rows, whatever cases the
    database held before (temporary objects made in the transaction vanish with its rollback).
    """
    db_session.execute(text('CREATE TEMP TABLE watermark AS SELECT coalesce(max(id), 0) AS id '
                            'FROM "case"'))
    # The service owns its transaction: here a savepoint inside the test's rolled-back one.
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    counts = load_demo_cases(factory, count=COUNT, seed=SEED, now=NOW)
    for view, table, key in (("new_case", '"case"', "id"), ("new_event", "case_event", "case_id"),
                             ("new_cohandler", "case_cohandler", "case_id")):
        db_session.execute(text(f"CREATE TEMP VIEW {view} AS SELECT * FROM {table} "  # noqa: S608
                                f"WHERE {key} > (SELECT id FROM watermark)"))
    return counts


def _rows(session: Session, sql: str, **params: Any) -> list[Any]:
    return list(session.execute(text(sql), params).all())


def _scalar(session: Session, sql: str, **params: Any) -> Any:
    return session.execute(text(sql), params).scalar_one()


def test_counts_match_what_was_loaded(db_session: Session, loaded: dict[str, int]) -> None:
    assert loaded["case"] == COUNT
    assert _scalar(db_session, 'SELECT count(*) FROM new_case WHERE synthetic') == COUNT
    assert _scalar(db_session, "SELECT count(*) FROM new_event") == loaded["case_event"]
    assert _scalar(db_session, "SELECT count(*) FROM new_cohandler") == loaded["case_cohandler"]
    assert _scalar(db_session, 'SELECT sum(version) FROM new_case') == loaded["case_event"]
    assert loaded["case_event"] > 5 * COUNT  # full histories, not just reports
    assert loaded["case_cohandler"] > 0


def test_case_row_matches_its_history(db_session: Session, loaded: dict[str, int]) -> None:
    bad = _rows(db_session, """
        WITH h AS (
          SELECT case_id, count(*) AS n,
                 (array_agg(to_state ORDER BY id DESC))[1] AS last_state,
                 (array_agg(created_at ORDER BY id DESC))[1] AS last_at,
                 (array_agg(created_at ORDER BY id))[1] AS first_at,
                 (array_agg(actor_id ORDER BY id))[1] AS first_actor,
                 (array_agg(created_at ORDER BY id))[2] AS second_at,
                 max(created_at) FILTER (WHERE to_state = 'resolved') AS resolved_at,
                 max(created_at) FILTER (WHERE to_state IN ('closed', 'cancelled')) AS closed_at
          FROM new_event GROUP BY case_id)
        SELECT c.id FROM new_case c JOIN h ON h.case_id = c.id
        JOIN case_category cc ON cc.code = c.category
        WHERE c.state <> h.last_state OR c.version <> h.n OR c.updated_at <> h.last_at
           OR c.created_at <> h.first_at OR c.created_by <> h.first_actor
           OR c.responded_at IS DISTINCT FROM h.second_at
           OR c.resolved_at IS DISTINCT FROM h.resolved_at
           OR c.closed_at IS DISTINCT FROM h.closed_at
           OR c.respond_by <> c.created_at + make_interval(secs => cc.respond_hours * 3600)
           OR c.resolve_by <> c.created_at + make_interval(secs => cc.resolve_hours * 3600)
           OR NOT c.synthetic""")
    assert bad == []
    assert _scalar(db_session, 'SELECT count(*) FROM new_case c WHERE NOT EXISTS '
                               '(SELECT 1 FROM new_event e WHERE e.case_id = c.id)') == 0


def test_events_chain_in_time_order(db_session: Session, loaded: dict[str, int]) -> None:
    rows = _rows(db_session, """
        SELECT case_id, action, from_state, to_state, created_at,
               lag(to_state) OVER w AS prev_state, lag(created_at) OVER w AS prev_at,
               row_number() OVER w AS k
        FROM new_event WINDOW w AS (PARTITION BY case_id ORDER BY id)""")
    firsts = [r for r in rows if r.k == 1]
    assert len(firsts) == COUNT
    assert all((r.action, r.from_state, r.to_state) == ("report", None, "reported") for r in firsts)
    later = [r for r in rows if r.k > 1]
    assert all(r.from_state == r.prev_state for r in later)
    assert all(r.created_at >= r.prev_at for r in later)
    assert all(r.created_at <= NOW for r in rows)
    assert min(r.created_at for r in firsts) >= NOW - timedelta(days=366)


def test_points_lie_in_their_grid_near_a_building(db_session: Session,
                                                  loaded: dict[str, int]) -> None:
    outside = _scalar(db_session, 'SELECT count(*) FROM new_case c JOIN grid g ON g.code = c.grid_code '
                                  "WHERE NOT ST_Covers(g.geom, c.geom)")
    assert outside == 0
    far = _scalar(db_session, """
        SELECT count(*) FROM new_case c JOIN building b ON b.code = c.building_code
        WHERE b.grid_code <> c.grid_code
           OR NOT ST_DWithin(b.geom::geography, c.geom::geography, 31)""")
    assert far == 0


def test_every_history_replays_through_the_workflow(db_session: Session,
                                                    loaded: dict[str, int]) -> None:
    actors: dict[int, Principal] = {}
    events = pd.DataFrame(_rows(db_session, "SELECT * FROM new_event ORDER BY case_id, id"))
    parts = pd.DataFrame(_rows(db_session, "SELECT * FROM new_cohandler"))
    for case_id, history in events.groupby("case_id"):
        case = case_repo.get_case(db_session, int(case_id))
        assert case is not None
        view = _replay(db_session, case, history, actors)
        assert (view.state.value, view.owner_kind, view.owner_department, view.rating,
                view.reopen_count) == (case.state, case.owner_kind, case.owner_department,
                                       case.rating, case.reopen_count)
        assert (view.suspended_from.value if view.suspended_from else None) == case.suspended_from
        mine = parts[parts["case_id"] == case_id] if len(parts) else parts
        assert {(c.department_code, c.done, c.note) for c in view.cohandlers} == {
            (r.department_code, r.done, r.note) for r in mine.itertuples()}
        worker = case_repo.grid_worker(db_session, case.grid_code)
        assert case.owner_person_id == (worker if case.owner_kind != "department" else None)


def _signed_in(session: Session, person_id: int) -> Principal:
    """The person as an account of their post would sign in (the scope principal.sql gives)."""
    row = session.execute(text("""
        SELECT p.role, p.community_code, p.department_code,
               ARRAY(SELECT grid_code FROM grid_member WHERE person_id = p.id
                       AND role = 'grid_worker') AS member,
               ARRAY(SELECT grid_code FROM grid_enrollment WHERE person_id = p.id
                       AND department_code = p.department_code) AS enrolled
        FROM person p WHERE p.id = :id"""), {"id": person_id}).one()
    if row.role == "grid_worker":
        return Principal(person_id=person_id, role=Role.GRID_WORKER, grids=frozenset(row.member))
    if row.role == "community_secretary":
        return Principal(person_id=person_id, role=Role.COMMUNITY_STAFF,
                         area_code=row.community_code)
    assert row.role == "department_staff", row.role
    return Principal(person_id=person_id, role=Role.DEPARTMENT_STAFF,
                     department_code=row.department_code, grids=frozenset(row.enrolled))


def _replay(session: Session, case: Any, history: pd.DataFrame,
            actors: dict[int, Principal]) -> workflow.CaseView:
    view = workflow.CaseView(
        state=workflow.State.REPORTED, grid_code=case.grid_code, community_code=case.community_code,
        owner_kind=None, owner_department=None,
        enrolled_departments=frozenset(case_repo.enrolled_departments(session, case.grid_code)),
        cohandlers=(), suspended_from=None, reopen_count=0, rating=None)
    for ev in history.iloc[1:].itertuples():
        if ev.actor_id not in actors:
            actors[ev.actor_id] = _signed_in(session, ev.actor_id)
        p = ev.payload
        tr = workflow.apply(view, actors[ev.actor_id], ev.action, note=ev.note,
                            department=p.get("department"), departments=p.get("departments", ()),
                            rating=p.get("rating"), reason=p.get("reason"),
                            after_photos=p.get("after_photos", 0))
        assert (tr.event.from_state, tr.event.to_state) == (ev.from_state, ev.to_state)
        assert dict(tr.event.payload) == p
        view = tr.case
    return view


def test_generation_is_deterministic(db_session: Session) -> None:
    inputs = read_case_inputs(db_session)
    a = generate_cases(inputs, now=NOW, count=200, seed=SEED)
    b = generate_cases(inputs, now=NOW, count=200, seed=SEED)
    c = generate_cases(inputs, now=NOW, count=200, seed=SEED + 1)
    for left, right in ((a.cases, b.cases), (a.events, b.events), (a.cohandlers, b.cohandlers)):
        pd.testing.assert_frame_equal(left, right)
    assert not a.cases["description"].equals(c.cases["description"])


def test_ratings_follow_the_rate_events(db_session: Session, loaded: dict[str, int]) -> None:
    rows = _rows(db_session, """
        SELECT c.state, c.rating, c.reopen_count,
               (SELECT e.payload->>'rating' FROM new_event e WHERE e.case_id = c.id
                AND e.action = 'rate' ORDER BY e.id DESC LIMIT 1) AS last_rating,
               (SELECT count(*) FROM new_event e WHERE e.case_id = c.id AND e.action = 'rate'
                AND e.payload->>'rating' = 'dissatisfied') AS reopened
        FROM new_case c""")
    assert all(r.rating == r.last_rating for r in rows)
    assert all(r.reopen_count == r.reopened for r in rows)
    assert all(r.rating in ("satisfied", "basically_satisfied") for r in rows
               if r.state in ("rated", "closed"))
    assert all(r.rating is None for r in rows if r.state in ("reported", "cancelled"))
    assert all(r.state in ("in_progress", "resolved", "verified", "suspended")
               for r in rows if r.rating == "dissatisfied")
    first = _rows(db_session, """
        SELECT DISTINCT ON (case_id) payload->>'rating' AS rating FROM new_event
        WHERE action = 'rate' ORDER BY case_id, id""")
    share = pd.Series([r.rating for r in first]).value_counts(normalize=True)
    assert 0.7 < share["satisfied"] < 0.9
    assert share.get("dissatisfied", 0) > 0.02
    assert sum(r.reopened for r in rows) > 0


def test_mix_of_outcomes_with_open_and_overdue_cases(db_session: Session,
                                                     loaded: dict[str, int]) -> None:
    states = dict(_rows(db_session, 'SELECT state, count(*) FROM new_case GROUP BY state'))
    assert states["closed"] > 0.85 * COUNT
    assert 0 < states["cancelled"] < 0.06 * COUNT
    assert sum(n for s, n in states.items() if s not in ("closed", "cancelled")) > 0
    overdue = _scalar(db_session, """SELECT count(*) FROM new_case WHERE state NOT IN
        ('closed', 'cancelled') AND resolved_at IS NULL AND resolve_by < :now""", now=NOW)
    assert overdue > 0
    old_open = _scalar(db_session, """SELECT count(*) FROM new_case WHERE state NOT IN
        ('closed', 'cancelled') AND created_at < :cut""", cut=NOW - timedelta(days=60))
    assert old_open == 0
    missed = _scalar(db_session, 'SELECT count(*) FROM new_case WHERE resolved_at > resolve_by')
    assert 0 < missed < 0.35 * COUNT
    duplicates = _rows(db_session, """
        SELECT c.duplicate_of IS NOT NULL AS linked, o.grid_code = c.grid_code
               AND o.category = c.category AND o.created_at <= c.created_at AS same_kind
        FROM new_case c JOIN new_event e ON e.case_id = c.id AND e.action = 'cancel'
        LEFT JOIN new_case o ON o.id = c.duplicate_of WHERE e.payload->>'reason' = 'duplicate'""")
    assert duplicates and all(r.same_kind for r in duplicates if r.linked)
    assert _scalar(db_session, """SELECT count(*) FROM new_case c LEFT JOIN new_event e ON
        e.case_id = c.id AND e.payload->>'reason' = 'duplicate'
        WHERE c.duplicate_of IS NOT NULL AND e.id IS NULL""") == 0
    actions = dict(_rows(db_session, "SELECT action, count(*) FROM new_event GROUP BY action"))
    assert {"return", "whistle", "finish_part", "cancel"} <= set(actions)


def test_channels_categories_and_seasons(db_session: Session, loaded: dict[str, int]) -> None:
    channels = dict(_rows(db_session, 'SELECT channel, count(*) FROM new_case GROUP BY channel'))
    assert 0.32 < channels["grid_patrol"] / COUNT < 0.48
    assert 0.18 < channels["hotline_12345"] / COUNT < 0.32
    top = _rows(db_session, 'SELECT category FROM new_case GROUP BY category ORDER BY count(*) DESC')
    assert top[0].category in ("property_management", "cityscape", "heating")
    winter = _scalar(db_session, """SELECT avg((extract(month FROM created_at AT TIME ZONE
        'Asia/Shanghai') IN (11, 12, 1, 2, 3))::int) FROM new_case WHERE category = 'heating'""")
    assert winter > 0.85
    phones = _rows(db_session, """SELECT reporter_phone FROM new_case WHERE reporter_phone <> ''""")
    assert 0.6 < len(phones) / COUNT < 0.8
    assert all(r.reporter_phone.startswith("13") and len(r.reporter_phone) == 11 for r in phones)
    assert _scalar(db_session, 'SELECT max(char_length(description)) FROM new_case') <= 4000
