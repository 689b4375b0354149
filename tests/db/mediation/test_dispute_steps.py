"""Dispute steps against the real PostGIS with real commits: two people stepping on one
dispute at once run one after the other (the row is locked), so exactly one wins and the other
gets a 409, and the history holds exactly the winner's step."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from gridmap.access import Principal, Role
from gridmap.errors import Conflict
from gridmap.mediation.services import disputes, steps


@pytest.fixture
def committed_dispute(engine: Engine, owner_engine: Engine) -> Iterator[tuple[int, Principal]]:
    """A dispute accepted for real at a community's point (removed afterwards, as the owner:
    its history is append-only for the app)."""
    with engine.connect() as conn:
        point, area, person = conn.execute(text(
            "SELECT p.facility_id, p.area_code, (SELECT m.person_id FROM grid_member m "
            "WHERE m.grid_code LIKE p.area_code || '%' LIMIT 1) FROM mediation_point p "
            "WHERE p.level = 'community' ORDER BY p.area_code DESC LIMIT 1")).one()
    staff = Principal(role=Role.COMMUNITY_STAFF, area_code=area, person_id=person,
                      username="barrier")
    made = disputes.accept_new(sessionmaker(engine), staff, point, disputes.DisputeRequest(
        kind="neighbour", summary="并发测试", parties=[
            disputes.Party("applicant", "甲"), disputes.Party("respondent", "乙")]))
    yield int(made["id"]), staff
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM dispute WHERE id = :i OR referred_from = :i"),
                     {"i": made["id"]})


def test_two_steps_at_once_one_wins(engine: Engine,
                                    committed_dispute: tuple[int, Principal]) -> None:
    dispute_id, staff = committed_dispute
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(action: str) -> None:
        barrier.wait(timeout=10)
        try:
            steps.take(sessionmaker(engine), staff, dispute_id,
                       steps.StepRequest(action=action, note="同时办理"))
            outcomes.append(action)
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(a,)) for a in ("refer_up", "refer_court")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("conflict") == 1, outcomes
    winner = next(o for o in outcomes if o != "conflict")
    with engine.connect() as conn:
        state, events, children = conn.execute(text(
            "SELECT state, (SELECT array_agg(action ORDER BY id) FROM dispute_event "
            "WHERE dispute_id = d.id), (SELECT count(*) FROM dispute c WHERE c.referred_from = d.id) "
            "FROM dispute d WHERE id = :i"), {"i": dispute_id}).one()
    expected = {"refer_up": ("referred_up", 1), "refer_court": ("referred_to_court", 0)}
    assert (state, children) == expected[winner]
    assert events == ["create", winner]
