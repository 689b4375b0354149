"""Runs know their metric CRS, the CRS comes from the data, and computes of one rule serialise.

The concurrency test needs two real transactions that commit, so it uses a rule of its own
(a facility type made for it, with no facilities) and deletes everything it made afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.codes import Level
from gridmap.coverage.repositories import compute as compute_repo
from gridmap.coverage.services import compute as coverage
from gridmap.coverage.services import queries
from gridmap.coverage.services.readers import OPERATOR
from gridmap.db import make_session_factory
from gridmap.errors import NotFound

RACE_TYPE, RACE_CIRCLE = "test_race_station", "5min"


def test_metric_crs_is_the_zone_nearest_the_loaded_territory(owner_session: Session) -> None:
    # As the owner: emptying the territory takes TRUNCATE, which the app role does not have.
    lon, lat = compute_repo.territory_centre(owner_session) or (0.0, 0.0)
    assert 123.0 < lon < 124.0 and 41.0 < lat < 43.0  # 沈河区
    assert coverage.metric_crs(owner_session) == "EPSG:4550"
    # Moved 10 degrees west (as if the city were elsewhere), the choice follows the data.
    owner_session.execute(text("UPDATE district SET geom = ST_Translate(geom, -10, 0)"))
    assert coverage.metric_crs(owner_session) == "EPSG:4547"  # CM 114°E
    owner_session.execute(text("DELETE FROM coverage_run"))  # nothing may hold the districts
    owner_session.execute(text("TRUNCATE district CASCADE"))
    with pytest.raises(NotFound):
        coverage.metric_crs(owner_session)


def test_a_run_records_its_crs_and_the_api_shows_it(db_session: Session,
                                                    factory: sessionmaker[Session]) -> None:
    report = coverage.compute(factory, "elder_care_station", "10min")
    assert report.metric_crs == "EPSG:4550"
    stored = db_session.execute(text("SELECT metric_srid, params->>'crs' FROM coverage_run "
                                     "WHERE id = :r"), {"r": report.run_id}).one()
    assert tuple(stored) == (4550, "EPSG:4550")
    listed = next(r for r in queries.runs(db_session, OPERATOR, lang="zh") if r["run_id"] == report.run_id)
    assert listed["metric_srid"] == 4550 and listed["metric_crs"] == "EPSG:4550"
    run = queries.resolve_run(db_session, "elder_care_station", "10min")
    assert run.metric_srid == 4550


def test_envelope_is_grown_in_the_metric_crs(db_session: Session) -> None:
    code = db_session.execute(text("SELECT min(code) FROM community")).scalar_one()
    tight = compute_repo.area_envelope(db_session, Level.COMMUNITY, code, margin_m=0, srid=4550)
    grown = compute_repo.area_envelope(db_session, Level.COMMUNITY, code, margin_m=1000, srid=4550)
    assert tight is not None and grown is not None
    assert grown[0] < tight[0] and grown[3] > tight[3]
    north = db_session.execute(text(
        "SELECT ST_Distance(ST_MakePoint(:x, :y1)::geography, ST_MakePoint(:x, :y2)::geography)"),
        {"x": tight[0], "y1": tight[3], "y2": grown[3]}).scalar_one()
    # The grown box's corner also moves east by 1 km in grid axes, which sit turned from true
    # north by the meridian convergence (about 0.3° here, 2.3° in EPSG:4549): under 1 %.
    assert 1000 <= north <= 1010
    assert compute_repo.area_envelope(db_session, Level.COMMUNITY, "999999999999", margin_m=1,
                                      srid=4550) is None


def test_a_type_without_facilities_covers_nobody(db_session: Session,
                                                factory: sessionmaker[Session]) -> None:
    db_session.execute(text("INSERT INTO facility_type (code, name_zh, name_en) "
                            "VALUES ('test_empty', '空', 'empty')"))
    db_session.execute(text("INSERT INTO coverage_rule (facility_type, circle, max_distance_m) "
                            "VALUES ('test_empty', '15min', 1000)"))
    report = coverage.compute(factory, "test_empty", "15min")
    assert report.facilities == 0 and report.buildings > 0 and report.buildings_covered == 0
    stored = db_session.execute(text("SELECT count(*) FILTER (WHERE facility_id IS NULL "
                                     "AND distance_m IS NULL AND NOT covered), count(*) "
                                     "FROM coverage_building WHERE run_id = :r"),
                                {"r": report.run_id}).one()
    assert stored[0] == stored[1] == report.buildings


@pytest.fixture
def race_rule(engine: Engine) -> Iterator[None]:
    """A committed rule nobody else computes; removed with its runs afterwards."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO facility_type (code, name_zh, name_en, color, sort_order) "
                          "VALUES (:t, '测试站', 'test station', '#000000', 999)"), {"t": RACE_TYPE})
        conn.execute(text("INSERT INTO coverage_rule (facility_type, circle, max_distance_m) "
                          "VALUES (:t, :c, 300)"), {"t": RACE_TYPE, "c": RACE_CIRCLE})
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE facility_type = :t"), {"t": RACE_TYPE})
        conn.execute(text("DELETE FROM coverage_rule WHERE facility_type = :t"), {"t": RACE_TYPE})
        conn.execute(text("DELETE FROM facility_type WHERE code = :t"), {"t": RACE_TYPE})


def _waiting_for_a_lock(engine: Engine, timeout_s: float = 60.0) -> bool:
    """Whether some backend is blocked on a lock (polled until ``timeout_s``)."""
    end = time.monotonic() + timeout_s
    with engine.connect() as conn:
        while time.monotonic() < end:
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                return True
            conn.rollback()
            time.sleep(0.05)
    return False


def test_two_simultaneous_computes_of_one_rule_both_succeed(
        engine: Engine, race_rule: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first compute stops after storing its run, before committing; the second then reaches
    # the same rule. Without serialising, the second fails on the partial unique index.
    stored, release = threading.Event(), threading.Event()
    aggregate = compute_repo.aggregate

    def paused_aggregate(session: Session, run_id: int) -> None:
        aggregate(session, run_id)
        if threading.current_thread().name == "first":
            stored.set()
            assert release.wait(120)

    monkeypatch.setattr(compute_repo, "aggregate", paused_aggregate)
    factory = make_session_factory(engine)
    outcome: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            outcome[name] = coverage.compute(factory, RACE_TYPE, RACE_CIRCLE)
        except Exception as exc:  # noqa: BLE001 - the test reports it below
            outcome[name] = exc

    first = threading.Thread(target=run, args=("first",), name="first")
    second = threading.Thread(target=run, args=("second",), name="second")
    first.start()
    assert stored.wait(120)
    second.start()
    try:
        assert _waiting_for_a_lock(engine), "the second compute never waited"
    finally:
        release.set()
        first.join(120)
        second.join(120)
    assert isinstance(outcome["first"], coverage.RunReport), outcome["first"]
    assert isinstance(outcome["second"], coverage.RunReport), outcome["second"]
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT id, current FROM coverage_run WHERE facility_type = :t "
                                 "ORDER BY id"), {"t": RACE_TYPE}).all()
    assert [tuple(r) for r in runs] == [(outcome["first"].run_id, False),
                                        (outcome["second"].run_id, True)]
