"""`gridmap coverage compute --all`: one run per coverage rule, so the GB 50180 audit is full."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.coverage.services import audit
from gridmap.coverage.services import compute as coverage


def test_every_rule_gets_a_current_run_and_the_audit_misses_none(
        db_session: Session, factory: sessionmaker[Session]) -> None:
    rules = db_session.execute(text("SELECT count(*), count(*) FILTER (WHERE required) "
                                    "FROM coverage_rule")).one()
    assert audit.missing_runs(db_session)  # the test database starts with no run at all
    told: list[tuple[int, int]] = []
    outcomes = coverage.compute_all(factory, done=lambda i, n, outcome: told.append((i, n)))
    assert len(outcomes) == rules[0] and all(o.report is not None for o in outcomes)
    assert told == [(i, rules[0]) for i in range(1, rules[0] + 1)]
    # The audit's required rules come first: a batch stopped early has filled the audit.
    required = {(t, c) for t, c in db_session.execute(text(
        "SELECT facility_type, circle FROM coverage_rule WHERE required"))}
    assert {(o.facility_type, o.circle) for o in outcomes[:rules[1]]} == required
    assert audit.missing_runs(db_session) == []
    current = db_session.execute(text("SELECT id FROM coverage_run WHERE current")).scalars()
    assert sorted(current) == sorted(o.run_id for o in outcomes)

    again = coverage.compute_all(factory, if_missing=True)
    assert [o.run_id for o in again] == [o.run_id for o in outcomes]
    assert all(o.report is None for o in again)
