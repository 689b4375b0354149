"""Dispatches, whistles and returns file inbox items in the action's own transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.cases.services import cases
from gridmap.errors import Conflict


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def g(db_session: Session) -> dict[str, Any]:
    """A grid with a worker, heating enrolled and one other department enrolled."""
    row = db_session.execute(text("""
        SELECT g.code, ST_X(ST_PointOnSurface(g.geom)) AS lon,
               ST_Y(ST_PointOnSurface(g.geom)) AS lat,
               (SELECT person_id FROM grid_member WHERE grid_code = g.code
                  AND role = 'grid_worker') AS worker,
               h.person_id AS heating,
               o.department_code AS other_dept, o.person_id AS other
        FROM grid g
        JOIN grid_enrollment h ON h.grid_code = g.code AND h.department_code = 'heating'
        JOIN LATERAL (SELECT department_code, person_id FROM grid_enrollment e
                      WHERE e.grid_code = g.code AND e.department_code <> 'heating'
                        AND e.person_id <> h.person_id
                      ORDER BY department_code LIMIT 1) o ON true
        WHERE NOT EXISTS (SELECT 1 FROM grid x WHERE x.code <> g.code
                          AND ST_DWithin(x.geom::geography,
                                         ST_PointOnSurface(g.geom)::geography, 60))
          AND EXISTS (SELECT 1 FROM grid_member m WHERE m.grid_code = g.code
                      AND m.role = 'grid_worker')
        ORDER BY g.code LIMIT 1""")).mappings().one()
    return dict(row)


def _inbox(session: Session, case_id: int) -> list[tuple[int, str]]:
    return [tuple(r) for r in session.execute(text(  # type: ignore[misc]
        "SELECT person_id, kind FROM inbox_item WHERE case_id = :c ORDER BY id"),
        {"c": case_id}).all()]


def test_dispatch_whistle_and_return_reach_their_people(
        db_session: Session, factory: sessionmaker[Session], g: dict[str, Any],
        tmp_path: Path) -> None:
    worker = Principal(account_id=11, person_id=g["worker"], role=Role.GRID_WORKER,
                       grids=frozenset({g["code"]}))
    heating = Principal(account_id=13, person_id=g["heating"], role=Role.DEPARTMENT_STAFF,
                        department_code="heating", grids=frozenset({g["code"]}))
    request = cases.IntakeRequest(category="heating", description="暖气不热",
                                  channel="grid_patrol", lon=g["lon"], lat=g["lat"])
    case_id = cases.intake(factory, worker, request, media_dir=tmp_path).case_id
    assert _inbox(db_session, case_id) == []  # a report alone tells nobody

    def act(who: Principal, action: str, version: int, **params: Any) -> None:
        cases.act(factory, who, case_id, action, version=version, params=params,
                  media_dir=tmp_path)

    act(worker, "dispatch", 1, department="heating")
    assert _inbox(db_session, case_id) == [(g["heating"], "dispatch")]
    act(heating, "whistle", 2, departments=[g["other_dept"]])
    assert _inbox(db_session, case_id)[1:] == [(g["other"], "whistle")]
    act(heating, "return", 3, note="不属于本部门")
    assert _inbox(db_session, case_id)[2:] == [(g["worker"], "return")]
    text_ = db_session.execute(text(
        "SELECT text FROM inbox_item WHERE case_id = :c AND kind = 'return'"),
        {"c": case_id}).scalar_one()
    assert text_.startswith(f"退回：案件 {case_id}") and "(returned:" in text_


def test_a_refused_action_files_nothing(db_session: Session, factory: sessionmaker[Session],
                                        g: dict[str, Any], tmp_path: Path) -> None:
    worker = Principal(account_id=11, person_id=g["worker"], role=Role.GRID_WORKER,
                       grids=frozenset({g["code"]}))
    request = cases.IntakeRequest(category="heating", description="暖气不热",
                                  channel="grid_patrol", lon=g["lon"], lat=g["lat"])
    case_id = cases.intake(factory, worker, request, media_dir=tmp_path).case_id
    with pytest.raises(Conflict):
        cases.act(factory, worker, case_id, "dispatch", version=7,
                  params={"department": "heating"}, media_dir=tmp_path)
    assert _inbox(db_session, case_id) == []
