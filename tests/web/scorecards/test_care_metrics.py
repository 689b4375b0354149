"""The care register's scorecard metrics (visits done, zero reports on time) over HTTP on the
real PostGIS: register entries, visits, explanations and zero reports in January and February
2020, the figures recomputed here in Python from the specs (an oracle written from the
definitions, not from the SQL), per grid, community and sub-district; departments empty (not
zero); the CSV and the workbook carry the columns and their definitions.

Everything lies in 2020, far from anything else a test commits, and every test is rolled back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Connection, text

LOCAL = timedelta(hours=8)


def local(m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """A Shenyang wall-clock time in 2020 as an aware UTC instant."""
    return datetime(2020, m, d, hh, mm, tzinfo=UTC) - LOCAL


@dataclass(frozen=True)
class Entry:
    """A register entry: grid key, when it was added (and closed), its visits and the months
    it was explained in (1 = January, 2 = February)."""

    grid: str
    created: datetime
    visits: tuple[datetime, ...] = ()
    closed: datetime | None = None
    explained: tuple[int, ...] = ()


ENTRIES = [
    Entry("a", local(1, 2) - timedelta(days=40), visits=(local(2, 10),), explained=(1,)),
    # Visited at 23:30 on 31 January in Shenyang (15:30 UTC): January's.
    Entry("a", local(1, 2) - timedelta(days=40), visits=(local(1, 31, 23, 30),),
          explained=(2,)),
    # Closed on 5 February without a February visit: not due in February; visited in January.
    Entry("a", local(1, 2) - timedelta(days=40), visits=(local(1, 5),), closed=local(2, 5)),
    Entry("a", local(2, 20), visits=(local(2, 21),)),
    # 00:30 on 1 March in Shenyang is 29 February in UTC: March's, so February is pending.
    Entry("a2", local(1, 2) - timedelta(days=40), visits=(local(3, 1, 0, 30),)),
    # Closed in January after a January visit: due (and done) in January, gone in February.
    Entry("a", local(1, 2) - timedelta(days=40), visits=(local(1, 5),), closed=local(1, 10)),
    Entry("b", local(1, 2) - timedelta(days=40), visits=(local(2, 3),)),
]
REPORTS = {  # (grid key, month) -> filed at
    ("a", 2): local(3, 5, 20),             # by the end of 5 March: on time
    ("a", 1): local(2, 6, 9),              # 6 February: late
    ("a2", 1): local(2, 5, 23, 59),        # the deadline's last minute: on time
    ("b", 2): local(2, 28),
}
MONTHS = {1: (local(1, 1, 0), local(2, 1, 0)), 2: (local(2, 1, 0), local(3, 1, 0))}


def deadline(month: int) -> datetime:
    """The end of the 5th of the following month, Shenyang time (written out here)."""
    return local(month + 1, 6, 0)


def visit_oracle(entries: list[Entry], month: int) -> dict[str, Any]:
    """Visits due and done of one unit's entries in ``month``, from the definitions."""
    start, end = MONTHS[month]
    due = done = 0
    for e in entries:
        on_register = e.created < end and (e.closed is None or e.closed >= start)
        visited = any(start <= v < end for v in e.visits)
        closed_in_month = e.closed is not None and e.closed < end
        if on_register and (visited or not closed_in_month):
            due += 1
            done += visited
    return {"care_due": due, "care_visited": done, "visit_rate": done / due if due else None}


def report_oracle(grids: list[str], month: int, now: datetime) -> dict[str, Any]:
    """Zero reports due and on time of one unit's grids in ``month``."""
    filed = {g: REPORTS.get((g, month)) for g in grids}
    due = sum(1 for g in grids if filed[g] is not None or deadline(month) <= now)
    on_time = sum(1 for g in grids if filed[g] is not None and filed[g] < deadline(month))
    return {"zero_reports_due": due, "zero_reports_on_time": on_time,
            "zero_report_rate": on_time / due if due else None}


@pytest.fixture
def place(tx: Connection) -> dict[str, Any]:
    """Two grids of one community (a, a2) and a grid of another sub-district (b), the care
    rows of the specs, and the other grids of a's community (they file nothing)."""
    a, a2 = tx.execute(text("""
        SELECT code FROM grid WHERE community_code = (
            SELECT community_code FROM grid WHERE code LIKE '210103%'
            GROUP BY community_code HAVING count(*) >= 2 ORDER BY community_code LIMIT 1)
        ORDER BY code LIMIT 2""")).scalars().all()
    b = tx.execute(text("SELECT min(code) FROM grid WHERE code LIKE '210103%' AND left(code, 9) "
                        "<> :s"), {"s": a[:9]}).scalar_one()
    grids = {"a": a, "a2": a2, "b": b}
    person = tx.execute(text("SELECT min(id) FROM person")).scalar_one()
    for e in ENTRIES:
        entry_id = tx.execute(text("""
            INSERT INTO care_entry (building_id, name, created_by, created_at, active, closed_at,
                                    closed_reason)
            SELECT min(id), '考核测试', :p, :c, :active, :closed, :why FROM building
            WHERE grid_code = :g RETURNING id"""), {
            "p": person, "c": e.created, "active": e.closed is None, "closed": e.closed,
            "why": "" if e.closed is None else "搬走", "g": grids[e.grid]}).scalar_one()
        for at in e.visits:
            tx.execute(text("INSERT INTO care_visit (entry_id, visited_at, visitor_id) "
                            "VALUES (:e, :at, :p)"), {"e": entry_id, "at": at, "p": person})
        for m in e.explained:
            tx.execute(text("INSERT INTO care_explanation (entry_id, month, reason, "
                            "explained_by) VALUES (:e, :m, '住院', :p)"),
                       {"e": entry_id, "m": date(2020, m, 1), "p": person})
    for (key, m), at in REPORTS.items():
        tx.execute(text("INSERT INTO care_zero_report (grid_code, month, no_new_difficulty, "
                        "submitted_by, submitted_at) VALUES (:g, :m, true, :p, :at)"),
                   {"g": grids[key], "m": date(2020, m, 1), "p": person, "at": at})
    community = tx.execute(text("SELECT code FROM grid WHERE community_code = :c ORDER BY code"),
                           {"c": a[:12]}).scalars().all()
    subdistrict = tx.execute(text("SELECT code FROM grid WHERE code LIKE :s ORDER BY code"),
                             {"s": a[:9] + "%"}).scalars().all()
    return {**grids, "community": a[:12], "subdistrict": a[:9], "community_grids": community,
            "subdistrict_grids": subdistrict, "key_of": {v: k for k, v in grids.items()}}


@pytest.fixture
def city(api: Any, login: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login("planner")


def _rows(api: Any, headers: dict[str, str], level: str, area: str,
          month: str = "2020-02") -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/scorecards/{level}?month={month}&area={area}", headers=headers)
    assert response.status_code == 200, response.get_data()[:300]
    return {r["code"]: r for r in response.get_json()["rows"]}


def _same(row: dict[str, Any], want: dict[str, Any], prefix: str = "") -> None:
    for key, value in want.items():
        got = row[prefix + key]
        assert (got == pytest.approx(value)) if value is not None else got is None, (key, got)


def _expected(place: dict[str, Any], grids: list[str], month: int) -> dict[str, Any]:
    keys = {place["key_of"].get(g) for g in grids} - {None}
    entries = [e for e in ENTRIES if e.grid in keys]
    return {**visit_oracle(entries, month),
            **report_oracle([place["key_of"].get(g, g) for g in grids], month,
                            datetime.now(UTC))}


def test_grid_figures_ranks_and_change(api: Any, place: dict[str, Any],
                                       city: dict[str, str]) -> None:
    rows = _rows(api, city, "grid", place["community"])
    for key in ("a", "a2"):
        _same(rows[place[key]], _expected(place, [place[key]], 2))
        _same(rows[place[key]], _expected(place, [place[key]], 1), prefix="prev_")
    a, a2 = rows[place["a"]], rows[place["a2"]]
    assert (a["care_due"], a["care_visited"]) == (3, 2)  # the oracle, read by a person
    assert (a2["visit_rate"], a2["rank_visit_rate"]) == (0, 2)
    assert a["rank_visit_rate"] == 1
    # January: a filed late (0 %), a2 on time (100 %); February: a on time, a2 not at all.
    assert (a["prev_rank_zero_report_rate"], a["rank_zero_report_rate"]) == (2, 1)
    assert a["rank_change_zero_report_rate"] == 1
    assert a["change_zero_report_rate"] == pytest.approx(1.0)
    idle = [r for code, r in rows.items() if code not in (place["a"], place["a2"])]
    assert idle and all(r["care_due"] == 0 and r["visit_rate"] is None
                        and r["zero_reports_due"] == 1 and r["zero_report_rate"] == 0
                        for r in idle)


def test_community_and_subdistrict_figures(api: Any, place: dict[str, Any],
                                           city: dict[str, str]) -> None:
    community = _rows(api, city, "community", "210103")[place["community"]]
    _same(community, _expected(place, place["community_grids"], 2))
    _same(community, _expected(place, place["community_grids"], 1), prefix="prev_")
    subdistrict = _rows(api, city, "subdistrict", "210103")[place["subdistrict"]]
    _same(subdistrict, _expected(place, place["subdistrict_grids"], 2))
    other = _rows(api, city, "subdistrict", "210103")[place["b"][:9]]
    assert (other["care_due"], other["care_visited"]) == (1, 1)


def test_departments_have_no_care_figures(api: Any, place: dict[str, Any],
                                          city: dict[str, str]) -> None:
    housing = _rows(api, city, "department", "210103")["housing"]
    for key in ("care_due", "care_visited", "visit_rate", "zero_reports_due",
                "zero_reports_on_time", "zero_report_rate", "rank_visit_rate",
                "change_visit_rate", "prev_care_due"):
        assert housing.get(key) is None, key
    csv_text = api.get("/api/scorecards/department.csv?month=2020-02&area=210103",
                       headers=city).get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(csv_text)))
    row = next(r for r in table if r[0] == "housing")
    assert row[table[0].index("走访完成率")] == "" and row[table[0].index("应报零报告数")] == ""


def test_not_yet_due_counts_only_filed_reports(api: Any, tx: Connection, place: dict[str, Any],
                                               city: dict[str, str]) -> None:
    from gridmap.care.rules import this_month

    month = this_month(datetime.now(UTC))
    tx.execute(text("INSERT INTO care_zero_report (grid_code, month, no_new_difficulty, "
                    "submitted_by) SELECT :g, :m, true, min(id) FROM person"),
               {"g": place["a"], "m": month})
    rows = _rows(api, city, "grid", place["community"], month.strftime("%Y-%m"))
    assert (rows[place["a"]]["zero_reports_due"], rows[place["a"]]["zero_report_rate"]) == (1, 1)
    # The deadline is the 5th of next month: a grid that has not filed is not late yet.
    assert (rows[place["a2"]]["zero_reports_due"], rows[place["a2"]]["zero_report_rate"]) == (
        0, None)


def test_csv_and_workbook_carry_the_columns(api: Any, place: dict[str, Any],
                                            city: dict[str, str]) -> None:
    text_ = api.get(f"/api/scorecards/grid.csv?month=2020-02&area={place['community']}",
                    headers=city).get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(text_)))
    row = next(r for r in table if r[0] == place["a"])
    assert row[table[0].index("走访完成率")] == str(2 / 3)
    assert row[table[0].index("按时零报告数")] == "1"
    response = api.get("/api/scorecards.xlsx?month=2020-02&area=210103", headers=city)
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    head = [c.value for c in book["网格"][1]]
    cells = {r[0].value: r for r in book["网格"].iter_rows(min_row=2)}
    rate = cells[place["a"]][head.index("走访完成率")]
    assert rate.value == pytest.approx(2 / 3) and rate.number_format == "0.0%"
    assert cells[place["a"]][head.index("零报告按时率排名")].value == 1
    department = book["部门"]
    dhead = [c.value for c in department[1]]
    housing = next(r for r in department.iter_rows(min_row=2) if r[0].value == "housing")
    assert housing[dhead.index("走访完成率")].value is None
    definitions = {r[0].value: r[1].value for r in book["指标说明"].iter_rows()}
    assert "次月5日" in definitions["零报告按时率"] or "次月5日" in definitions["应报零报告数"]
    assert "走访完成率" in definitions
