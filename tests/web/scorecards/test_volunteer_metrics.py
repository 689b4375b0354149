"""The volunteers' scorecard metrics (tasks done, volunteer hours) over HTTP on the real
PostGIS: tasks published from cases in three grids, done in January and February 2020 (one at
23:30 Shenyang time on 31 January, which is January's), others open or cancelled; the figures
recomputed here in Python from the definition, per grid, community and sub-district;
departments empty (not zero); the CSV and the workbook carry the columns.

Everything lies in 2020 and every test is rolled back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Connection, text

LOCAL = timedelta(hours=8)


def local(m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """A Shenyang wall-clock time in 2020 as an aware UTC instant."""
    return datetime(2020, m, d, hh, mm, tzinfo=UTC) - LOCAL


@dataclass(frozen=True)
class Task:
    """A task of a grid (key), its state, when it was done and its hours."""

    grid: str
    state: str
    done: datetime | None = None
    hours: float | None = None


TASKS = [
    Task("a", "done", local(2, 3), 2.5),
    Task("a", "done", local(2, 27), 1.0),
    Task("a", "done", local(1, 31, 23, 30), 4.0),   # 15:30 UTC on 31 January: January's
    Task("a", "done", local(3, 1, 0, 30), 3.0),     # 29 February in UTC, March in Shenyang
    Task("a2", "done", local(1, 10), 1.5),
    Task("a2", "accepted"),
    Task("a2", "open"),
    Task("b", "done", local(2, 14), 6.0),
    Task("b", "cancelled"),
]
MONTHS = {1: (local(1, 1, 0), local(2, 1, 0)), 2: (local(2, 1, 0), local(3, 1, 0))}


def oracle(tasks: list[Task], month: int) -> dict[str, Any]:
    """Tasks done and their hours in ``month``, from the definition."""
    start, end = MONTHS[month]
    done = [t for t in tasks if t.state == "done" and t.done is not None and start <= t.done < end]
    return {"volunteer_tasks_done": len(done),
            "volunteer_hours": sum(t.hours or 0.0 for t in done)}


@pytest.fixture
def place(tx: Connection) -> dict[str, Any]:
    """Grids a and a2 of one community, b of another sub-district; a team and a volunteer;
    a case per task in its grid, and the tasks."""
    a, a2 = tx.execute(text("""
        SELECT code FROM grid WHERE community_code = (
            SELECT community_code FROM grid WHERE code LIKE '210103%'
            GROUP BY community_code HAVING count(*) >= 2 ORDER BY community_code LIMIT 1)
        ORDER BY code LIMIT 2""")).scalars().all()
    b = tx.execute(text("SELECT min(code) FROM grid WHERE code LIKE '210103%' AND left(code, 9) "
                        "<> :s"), {"s": a[:9]}).scalar_one()
    grids = {"a": a, "a2": a2, "b": b}
    person = tx.execute(text("SELECT min(id) FROM person")).scalar_one()
    team = tx.execute(text("INSERT INTO volunteer_team (community_code, name) "
                           "VALUES (:c, '考核测试队') RETURNING id"), {"c": a[:12]}).scalar_one()
    volunteer = tx.execute(text("INSERT INTO volunteer (team_id, name) VALUES (:t, '志愿者甲') "
                                "RETURNING id"), {"t": team}).scalar_one()
    for task in TASKS:
        grid = grids[task.grid]
        case_id = tx.execute(text("""
            INSERT INTO "case" (category, description, geom, grid_code, community_code,
                                subdistrict_code, district_code, channel, state, owner_kind,
                                owner_person_id, created_by, created_at, respond_by, resolve_by)
            SELECT (SELECT code FROM case_category ORDER BY code LIMIT 1), '志愿考核测试',
                   ST_PointOnSurface(g.geom), g.code, :community, :subdistrict, :district,
                   'grid_patrol', 'dispatched', 'grid', :p, :p, :at, :at, :at
            FROM grid g WHERE g.code = :g RETURNING id"""),
            {"g": grid, "community": grid[:12], "subdistrict": grid[:9], "district": grid[:6],
             "p": person, "at": local(1, 2)}).scalar_one()
        tx.execute(text("""
            INSERT INTO volunteer_task (team_id, case_id, grid_code, title, state, published_by,
                                        published_at, volunteer_id, accepted_at, done_at, hours,
                                        points, recorded_by)
            VALUES (:team, :case, :g, '考核测试', :state, :p, :pub, :v, :acc, :done, :hours,
                    :points, :rec)"""), {
            "team": team, "case": case_id, "g": grid, "state": task.state, "p": person,
            "pub": local(1, 2),
            "v": volunteer if task.state in ("accepted", "done") else None,
            "acc": local(1, 3) if task.state in ("accepted", "done") else None,
            "done": task.done, "hours": task.hours,
            "points": 10 if task.state == "done" else None,
            "rec": person if task.state == "done" else None})
    return {**grids, "community": a[:12], "subdistrict": a[:9],
            "key_of": {v: k for k, v in grids.items()}}


@pytest.fixture
def city(login: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login("planner")


def _rows(api: Any, headers: dict[str, str], level: str, area: str,
          month: str = "2020-02") -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/scorecards/{level}?month={month}&area={area}", headers=headers)
    assert response.status_code == 200, response.get_data()[:300]
    return {r["code"]: r for r in response.get_json()["rows"]}


def _of(keys: set[str]) -> list[Task]:
    return [t for t in TASKS if t.grid in keys]


def _same(row: dict[str, Any], want: dict[str, Any], prefix: str = "") -> None:
    for key, value in want.items():
        assert row[prefix + key] == pytest.approx(value), (prefix + key, row[prefix + key])


def test_grid_figures_and_change(api: Any, place: dict[str, Any], city: dict[str, str]) -> None:
    rows = _rows(api, city, "grid", place["community"])
    for key in ("a", "a2"):
        _same(rows[place[key]], oracle(_of({key}), 2))
        _same(rows[place[key]], oracle(_of({key}), 1), prefix="prev_")
    a = rows[place["a"]]
    assert (a["volunteer_tasks_done"], a["volunteer_hours"]) == (2, 3.5)  # read by a person
    assert (a["prev_volunteer_tasks_done"], a["prev_volunteer_hours"]) == (1, 4.0)
    assert a["change_volunteer_hours"] == -0.5
    idle = [r for code, r in rows.items() if code not in (place["a"], place["a2"])]
    assert idle and all(r["volunteer_tasks_done"] == 0 and r["volunteer_hours"] == 0
                        for r in idle)


def test_community_and_subdistrict_figures(api: Any, place: dict[str, Any],
                                           city: dict[str, str]) -> None:
    community = _rows(api, city, "community", place["subdistrict"])[place["community"]]
    _same(community, oracle(_of({"a", "a2"}), 2))
    _same(community, oracle(_of({"a", "a2"}), 1), prefix="prev_")
    subdistricts = _rows(api, city, "subdistrict", place["community"][:6])
    _same(subdistricts[place["subdistrict"]], oracle(_of({"a", "a2"}), 2))
    _same(subdistricts[place["b"][:9]], oracle(_of({"b"}), 2))


def test_departments_have_no_volunteer_figures(api: Any, place: dict[str, Any],
                                               city: dict[str, str]) -> None:
    rows = _rows(api, city, "department", "")
    assert rows and all(r["volunteer_tasks_done"] is None and r["volunteer_hours"] is None
                        for r in rows.values())


def test_csv_and_workbook_carry_the_columns(api: Any, place: dict[str, Any],
                                            city: dict[str, str]) -> None:
    answer = api.get(f"/api/scorecards/grid.csv?month=2020-02&area={place['community']}",
                     headers=city)
    assert answer.status_code == 200
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    header = table[0]
    assert "志愿服务时长" in header and "志愿任务完成数" in header
    row = next(r for r in table[1:] if place["a"] in r)
    assert float(row[header.index("志愿服务时长")]) == 3.5
    book = api.get(f"/api/scorecards.xlsx?month=2020-02&area={place['community']}",
                   headers=city)
    assert book.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(book.data), read_only=True)
    texts = [str(c) for ws in sheets.worksheets for r in ws.iter_rows(values_only=True)
             for c in r if c is not None]
    assert "志愿服务时长" in texts and any("志愿服务" in t and "小时" in t for t in texts)
