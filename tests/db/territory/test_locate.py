"""Locate on a real PostGIS: the right grid, a deterministic answer on shared boundaries."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import OutsideTerritory
from gridmap.territory.services import lookup as territory


def _interior_point(session: Session) -> dict:
    return dict(session.execute(text("""
        SELECT g.code, g.community_code, ST_X(p) AS lon, ST_Y(p) AS lat
        FROM (SELECT code, community_code, ST_PointOnSurface(geom) AS p FROM grid
              ORDER BY code OFFSET 100 LIMIT 1) g
    """)).mappings().one())


def test_interior_point_finds_its_grid_and_hierarchy(db_session: Session) -> None:
    g = _interior_point(db_session)
    found = territory.locate(db_session, g["lon"], g["lat"], lang="zh")
    assert found["grid"]["code"] == g["code"]
    assert found["community"]["code"] == g["community_code"]
    assert found["subdistrict"]["code"] == g["community_code"][:9]
    assert found["district"] == {"code": "210103", "name": "沈河区"}
    assert found["grid_worker"]["name"]
    assert len(found["departments"]) == 15
    assert [d["name"] for d in found["departments"]][:2] == ["民政", "应急管理"]


def test_nearest_building_is_the_grids_closest_by_true_distance(db_session: Session) -> None:
    g = _interior_point(db_session)
    found = territory.locate(db_session, g["lon"], g["lat"], lang="zh")
    best = db_session.execute(text("""
        SELECT code, ST_Distance(geom::geography,
                                 ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS d
        FROM building WHERE grid_code = :grid ORDER BY d LIMIT 1
    """), {"lon": g["lon"], "lat": g["lat"], "grid": g["code"]}).one()
    assert found["building"]["code"] == best.code
    assert found["building"]["distance_m"] == pytest.approx(best.d, abs=0.1)


def test_point_on_shared_boundary_gets_the_lowest_code_every_time(db_session: Session) -> None:
    # A vertex of one grid's outline that lies on another's: grids are cut from shared lines,
    # so such vertices are the same coordinates in both (a point interpolated along a shared
    # edge is not exactly on either outline, by floating point).
    row = db_session.execute(text("""
        SELECT a.code AS a, b.code AS b, ST_X(v.geom) AS lon, ST_Y(v.geom) AS lat
        FROM grid a JOIN grid b ON a.code < b.code AND a.geom && b.geom,
             LATERAL ST_DumpPoints(a.geom) v
        WHERE ST_Covers(b.geom, v.geom)
        ORDER BY a.code, b.code LIMIT 1
    """)).mappings().one()
    covering = db_session.execute(text("""
        SELECT code FROM grid WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
        ORDER BY code"""), dict(row)).scalars().all()
    assert len(covering) >= 2, "the point must lie on the boundary of both grids"
    answers = {territory.locate(db_session, row["lon"], row["lat"], lang="zh")["grid"]["code"]
               for _ in range(3)}
    assert answers == {covering[0]}


def test_point_outside_every_grid_is_a_clear_not_found(db_session: Session) -> None:
    with pytest.raises(OutsideTerritory, match="不在任何网格内"):
        territory.locate(db_session, 116.39, 39.91, lang="zh")  # Beijing


def test_point_in_an_unloaded_district_names_that_district(db_session: Session) -> None:
    centre = db_session.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM district "
        "WHERE code = '210181') d")).one()  # 新民市: outline loaded, no grids in the test data
    with pytest.raises(OutsideTerritory, match="新民市"):
        territory.locate(db_session, centre[0], centre[1], lang="zh")


def test_english_department_names(db_session: Session) -> None:
    g = _interior_point(db_session)
    found = territory.locate(db_session, g["lon"], g["lat"], lang="en")
    assert found["departments"][0]["name"] == "Civil Affairs"


def _locate(db_session: Session, g: dict) -> dict:
    return territory.locate(db_session, g["lon"], g["lat"], lang="zh")


def test_answer_follows_renamed_community(db_session: Session) -> None:
    g = _interior_point(db_session)
    db_session.execute(text("UPDATE community SET name = '新名社区' WHERE code = :c"),
                       {"c": g["community_code"]})
    assert _locate(db_session, g)["community"]["name"] == "新名社区"


def test_answer_follows_a_new_grid_worker(db_session: Session) -> None:
    g = _interior_point(db_session)
    new_id = db_session.execute(text(
        "INSERT INTO person (name, phone, role, community_code) "
        "VALUES ('新网格员', '13800000000', 'grid_worker', :c) RETURNING id"),
        {"c": g["community_code"]}).scalar_one()
    db_session.execute(text("UPDATE grid_member SET person_id = :p "
                            "WHERE grid_code = :g AND role = 'grid_worker'"),
                       {"p": new_id, "g": g["code"]})
    assert _locate(db_session, g)["grid_worker"] == {"name": "新网格员", "phone": "13800000000"}
    db_session.execute(text("UPDATE person SET phone = '13900000000' WHERE id = :p"),
                       {"p": new_id})
    assert _locate(db_session, g)["grid_worker"]["phone"] == "13900000000"


def test_answer_follows_enrolment_changes(db_session: Session) -> None:
    g = _interior_point(db_session)
    db_session.execute(text("DELETE FROM grid_enrollment WHERE grid_code = :g "
                            "AND department_code = 'heating'"), {"g": g["code"]})
    names = [d["name"] for d in _locate(db_session, g)["departments"]]
    assert len(names) == 14 and "供热" not in names
    db_session.execute(text("DELETE FROM grid_member WHERE grid_code = :g"), {"g": g["code"]})
    assert _locate(db_session, g)["grid_worker"] is None


def test_moving_a_member_refreshes_both_grids(db_session: Session) -> None:
    g = _interior_point(db_session)
    other = db_session.execute(text(
        "SELECT code FROM grid WHERE community_code = :c AND code <> :g ORDER BY code LIMIT 1"),
        {"c": g["community_code"], "g": g["code"]}).scalar_one()
    db_session.execute(text("DELETE FROM grid_member WHERE grid_code = :o"), {"o": other})
    db_session.execute(text("UPDATE grid_member SET grid_code = :o WHERE grid_code = :g "
                            "AND role = 'grid_worker'"), {"o": other, "g": g["code"]})
    assert _locate(db_session, g)["grid_worker"] is None
    card = db_session.execute(text("SELECT card_zh FROM grid_card WHERE grid_code = :o"),
                              {"o": other}).scalar_one()
    assert json.loads(card)["grid_worker"]["name"]
