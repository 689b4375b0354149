"""Coverage computed on the real PostGIS test data: stored per building and per area."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.coverage.services import compute as coverage
from gridmap.errors import InvalidInput


@pytest.fixture
def run(factory: sessionmaker[Session]) -> coverage.RunReport:
    return coverage.compute(factory, "elder_care_station", "15min")


def test_every_building_gets_a_stored_result(db_session: Session, run) -> None:
    n_buildings = db_session.execute(text("SELECT count(*) FROM building")).scalar_one()
    stored = db_session.execute(text("SELECT count(*), count(*) FILTER (WHERE covered) "
                                     "FROM coverage_building WHERE run_id = :r"),
                                {"r": run.run_id}).one()
    assert run.buildings == n_buildings == stored[0]
    assert stored[1] == run.buildings_covered > 0


def test_covered_means_within_the_rule_distance(db_session: Session, run) -> None:
    limit = db_session.execute(text(
        "SELECT max_distance_m FROM coverage_rule WHERE facility_type = 'elder_care_station' "
        "AND circle = '15min'")).scalar_one()
    wrong = db_session.execute(text("""
        SELECT count(*) FROM coverage_building WHERE run_id = :r
          AND covered <> (distance_m IS NOT NULL AND distance_m <= :limit)"""),
        {"r": run.run_id, "limit": limit}).scalar_one()
    assert wrong == 0


def test_walking_distance_is_never_shorter_than_the_straight_line(db_session: Session,
                                                                   run) -> None:
    shortest = db_session.execute(text("""
        SELECT min(cb.distance_m - ST_Distance(ST_PointOnSurface(b.geom)::geography,
                                               f.geom::geography))
        FROM coverage_building cb JOIN building b ON b.id = cb.building_id
        JOIN facility f ON f.id = cb.facility_id
        WHERE cb.run_id = :r AND cb.distance_m IS NOT NULL"""), {"r": run.run_id}).scalar_one()
    assert shortest > -1.0  # metres; the two measures differ only by projection (< 1 m)


def test_area_totals_add_up_at_every_level(db_session: Session, run) -> None:
    sums = db_session.execute(text("""
        SELECT level, sum(residents), sum(residents_covered), sum(elderly), sum(elderly_covered),
               sum(buildings)
        FROM coverage_area WHERE run_id = :r GROUP BY level ORDER BY level"""),
        {"r": run.run_id}).all()
    truth = db_session.execute(text("""
        SELECT sum(b.residents), sum(b.residents) FILTER (WHERE cb.covered),
               sum(b.aged_60_plus), sum(b.aged_60_plus) FILTER (WHERE cb.covered), count(*)
        FROM coverage_building cb JOIN building b ON b.id = cb.building_id
        WHERE cb.run_id = :r"""), {"r": run.run_id}).one()
    assert {row[0] for row in sums} == {"grid", "community", "subdistrict", "district"}
    for row in sums:
        assert tuple(row[1:]) == tuple(truth)
    assert run.elderly_rate == pytest.approx(truth[3] / truth[2])


def test_a_new_run_replaces_the_current_one(db_session: Session, factory, run) -> None:
    again = coverage.compute(factory, "elder_care_station", "15min")
    current = db_session.execute(text(
        "SELECT id FROM coverage_run WHERE facility_type = 'elder_care_station' "
        "AND circle = '15min' AND current")).scalars().all()
    assert current == [again.run_id] and again.run_id != run.run_id


def test_smaller_circle_covers_fewer(factory, run) -> None:
    small = coverage.compute(factory, "elder_care_station", "5min")
    assert small.buildings_covered < run.buildings_covered


def test_unknown_rule_is_a_clear_error(factory) -> None:
    with pytest.raises(InvalidInput, match="没有"):
        coverage.compute(factory, "casino", "15min")
