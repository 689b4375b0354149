"""Siting, what-if and the GB 50180 audit on the real PostGIS test data (沈河区)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.coverage.services import audit, siting, what_if
from gridmap.coverage.services import compute as coverage
from gridmap.coverage.services.readers import OPERATOR
from gridmap.errors import InvalidInput

TEST_DISTRICT = "210103"  # 沈河区, loaded by tests/conftest.py



@pytest.fixture(scope="module")
def sited(engine) -> siting.SitingReport:  # type: ignore[no-untyped-def]
    with Session(bind=engine) as session:
        return siting.site(session, OPERATOR, "elder_care_station", "15min", area_code=TEST_DISTRICT, k=5)


def _first_subdistrict(session: Session) -> str:
    return str(session.execute(text("SELECT min(code) FROM subdistrict WHERE code LIKE :d"),
                               {"d": TEST_DISTRICT + "%"}).scalar_one())


def _district(report: what_if.WhatIfReport) -> what_if.AreaChange:
    return next(a for a in report.areas if a.code == TEST_DISTRICT)


@pytest.fixture
def run(factory) -> int:  # type: ignore[no-untyped-def]
    """The stored run what-if reads the buildings out of the edits' reach from."""
    return coverage.compute(factory, "elder_care_station", "15min").run_id


def test_sites_added_by_what_if_raise_coverage_by_exactly_the_claimed_gain(
        db_session: Session, sited: siting.SitingReport, run: int) -> None:
    assert 0 < len(sited.sites) <= 5
    gains = [s.elderly_gain for s in sited.sites]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    changed = what_if.what_if(db_session, OPERATOR, "elder_care_station", "15min",
                             add=[(s.lon, s.lat) for s in sited.sites])
    area = _district(changed)
    assert area.elderly_covered_before == sited.elderly_covered
    assert area.elderly_covered_after - area.elderly_covered_before == sited.sites[-1].elderly_cumulative
    assert changed.buildings_lost == 0 and changed.buildings_gained > 0
    first = _district(what_if.what_if(db_session, OPERATOR, "elder_care_station", "15min",
                                     add=[(sited.sites[0].lon, sited.sites[0].lat)]))
    assert first.elderly_covered_after - first.elderly_covered_before == sited.sites[0].elderly_gain


def test_what_if_removing_a_facility_lowers_coverage(db_session: Session, run: int) -> None:
    # Stations overlap, so one may be redundant; a whole sub-district's stations are not.
    closing = db_session.execute(text(
        "SELECT f.id FROM facility f WHERE f.type = 'elder_care_station' AND f.community_code "
        "LIKE :d"), {"d": _first_subdistrict(db_session) + "%"}).scalars().all()
    assert closing
    changed = what_if.what_if(db_session, OPERATOR, "elder_care_station", "15min", remove=closing,
                             level="community")
    assert changed.buildings_lost > 0 and changed.buildings_gained == 0
    assert all(a.residents_covered_after <= a.residents_covered_before for a in changed.areas)
    assert sum(a.residents_covered_before - a.residents_covered_after for a in changed.areas) > 0
    with pytest.raises(InvalidInput):
        what_if.what_if(db_session, OPERATOR, "elder_care_station", "15min", remove=[-1])


def test_what_if_with_no_change_changes_nothing(db_session: Session, run: int) -> None:
    same = what_if.what_if(db_session, OPERATOR, "elder_care_station", "15min", level="grid")
    assert same.changed_buildings == 0
    assert all(a.elderly_covered_before == a.elderly_covered_after for a in same.areas)


def test_a_candidate_layer_is_used_as_given(db_session: Session,
                                            sited: siting.SitingReport) -> None:
    layer = [(s.lon, s.lat) for s in sited.sites[:2]]
    report = siting.site(db_session, OPERATOR, "elder_care_station", "15min", area_code=TEST_DISTRICT, k=5,
                         candidates=layer)
    assert report.candidates == 2
    assert [s.elderly_gain for s in report.sites] == [s.elderly_gain for s in sited.sites[:2]]
    assert all(s.node_id is None for s in report.sites)


def test_audit_rows_agree_with_stored_runs(db_session: Session, factory) -> None:
    run = coverage.compute(factory, "elder_care_station", "15min")
    rows = [r for r in audit.rows(db_session, OPERATOR, level="community", prefix=TEST_DISTRICT)
            if (r["facility_type"], r["circle"]) == ("elder_care_station", "15min")]
    stored = dict(db_session.execute(text(
        "SELECT code, residents_covered::float / nullif(residents, 0) FROM coverage_area "
        "WHERE run_id = :r AND level = 'community'"), {"r": run.run_id}).all())
    n_communities = db_session.execute(text(
        "SELECT count(*) FROM community WHERE code LIKE :d"), {"d": TEST_DISTRICT + "%"}).scalar_one()
    assert len(rows) == n_communities
    for row in rows:
        assert row["run_id"] == run.run_id
        share = stored.get(row["code"])
        if share is None:
            assert row["status"] == "no_residents"
        else:
            assert row["residents_share"] == pytest.approx(share, abs=1e-4)
            assert row["status"] == ("covered" if share >= audit.MIN_SHARE else "gap")


def test_audit_reports_missing_runs_with_the_command(db_session: Session) -> None:
    db_session.execute(text("UPDATE coverage_run SET current = false "
                            "WHERE facility_type = 'pocket_park' AND circle = '5min'"))
    rows = audit.rows(db_session, OPERATOR, level="grid", prefix=TEST_DISTRICT)
    park = next(r for r in rows if r["facility_type"] == "pocket_park")
    assert park["status"] == "not_computed"
    assert park["command"] == "gridmap coverage compute --type pocket_park --circle 5min"
    assert {"facility_type": "pocket_park", "circle": "5min",
            "command": park["command"]} in audit.missing_runs(db_session)


def test_audit_csv_and_geojson_stream_every_row(db_session: Session, factory) -> None:
    coverage.compute(factory, "elder_care_station", "5min")
    prefix = _first_subdistrict(db_session)
    n = sum(1 for _ in audit.rows(db_session, OPERATOR, level="community", prefix=prefix))
    text_ = "".join(audit.to_csv(audit.rows(db_session, OPERATOR, level="community", prefix=prefix)))
    assert text_.startswith("\ufefflevel,")  # BOM: spreadsheet programs then read the Chinese
    table = list(csv.DictReader(io.StringIO(text_.removeprefix("\ufeff"))))
    assert len(table) == n > 0 and list(table[0]) == audit.COLUMNS
    doc = json.loads("".join(audit.to_geojson(
        audit.rows(db_session, OPERATOR, level="community", prefix=prefix, with_geometry=True))))
    assert len(doc["features"]) == n
    assert doc["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    with pytest.raises(InvalidInput):
        next(audit.rows(db_session, OPERATOR, level="district"))
