"""Two people recording steps of one volunteer task at once (real PostGIS, two real sessions):
the task is locked, so exactly one step wins and the other is refused with a clear 4xx; the
task never holds two volunteers or two sets of hours."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from gridmap.access import Principal, Role
from gridmap.errors import GridmapError
from gridmap.volunteers.services import tasks


@pytest.fixture
def task(engine: Engine, owner_engine: Engine) -> Iterator[dict[str, Any]]:
    """A committed open task (from a visit's need) of a team with two volunteers; removed after."""
    with engine.begin() as conn:
        row = conn.execute(text("""
            SELECT m.person_id, b.id AS building, b.grid_code FROM grid_member m
            JOIN building b ON b.grid_code = m.grid_code WHERE m.role = 'grid_worker'
            ORDER BY m.grid_code DESC, b.id LIMIT 1""")).mappings().one()
        team = conn.execute(text("INSERT INTO volunteer_team (community_code, name) VALUES "
                                 "(:c, '并发测试队') RETURNING id"),
                            {"c": row["grid_code"][:12]}).scalar_one()
        people = [conn.execute(text("INSERT INTO volunteer (team_id, name) VALUES (:t, :n) "
                                    "RETURNING id"), {"t": team, "n": n}).scalar_one()
                  for n in ("甲", "乙")]
        entry = conn.execute(text("INSERT INTO care_entry (building_id, name, created_by) VALUES "
                                  "(:b, '并发', :p) RETURNING id"),
                             {"b": row["building"], "p": row["person_id"]}).scalar_one()
        visit = conn.execute(text(
            "INSERT INTO care_visit (entry_id, visited_at, visitor_id, needs_help, synthetic) "
            "VALUES (:e, now(), :p, true, true) RETURNING id"),
            {"e": entry, "p": row["person_id"]}).scalar_one()
    worker = Principal(role=Role.GRID_WORKER, person_id=row["person_id"], username="race",
                       grids=frozenset({row["grid_code"]}))
    made = tasks.publish(sessionmaker(engine), worker, tasks.TaskRequest(
        team_id=team, case_id=None, visit_id=visit, title="并发"))
    try:
        yield {"id": made["id"], "volunteers": people, "worker": worker,
               "community": Principal(role=Role.COMMUNITY_STAFF, person_id=row["person_id"],
                                      area_code=row["grid_code"][:12], username="race2")}
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM volunteer_task WHERE team_id = :t"), {"t": team})
            conn.execute(text("DELETE FROM volunteer WHERE team_id = :t"), {"t": team})
            conn.execute(text("DELETE FROM volunteer_team WHERE id = :t"), {"t": team})
            conn.execute(text("DELETE FROM care_visit WHERE id = :v"), {"v": visit})
            conn.execute(text("DELETE FROM care_entry WHERE id = :e"), {"e": entry})


def _race(*attempts: Any) -> list[str]:
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(attempt: Any) -> None:
        barrier.wait(timeout=10)
        try:
            attempt()
            outcomes.append("ok")
        except GridmapError as exc:
            outcomes.append(str(exc.status))

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(outcomes)


def test_two_acceptances_at_once_one_wins(engine: Engine, task: dict[str, Any]) -> None:
    factory = sessionmaker(engine)
    first, second = task["volunteers"]
    outcomes = _race(lambda: tasks.accept(factory, task["worker"], task["id"], first),
                     lambda: tasks.accept(factory, task["community"], task["id"], second))
    assert outcomes == ["400", "ok"]
    outcomes = _race(lambda: tasks.complete(factory, task["worker"], task["id"], 2, ""),
                     lambda: tasks.cancel(factory, task["community"], task["id"], "撤销"))
    assert outcomes == ["400", "ok"]
    with engine.connect() as conn:
        state, volunteer, hours = conn.execute(text(
            "SELECT state, volunteer_id, hours FROM volunteer_task WHERE id = :i"),
            {"i": task["id"]}).one()
    assert volunteer in (first, second)
    assert (state == "done") == (hours is not None) and state in ("done", "cancelled")
