"""Case statistics on a real PostGIS: known cases and events in, hand-computed figures out.

The cases are placed in 2020, long before anything another test (or the e2e live server) can
commit, and each test runs in a rolled-back transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.access import Principal, Role
from gridmap.cases.services import stats as case_stats
from gridmap.errors import Forbidden, InvalidInput, NotFound, Unauthorized

LOCAL = timedelta(hours=8)
AS_OF = datetime(2020, 3, 20, tzinfo=UTC)  # 2020-03-20 08:00 in Shenyang
H = timedelta(hours=1)


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A Shenyang wall-clock time as an aware UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - LOCAL


@dataclass(frozen=True)
class Spec:
    """One test case: when, deadlines and outcomes as hours after reporting."""

    key: str
    grid: str
    created: datetime
    category: str
    state: str
    respond_h: float
    resolve_h: float
    responded_h: float | None = None
    resolved_h: float | None = None
    ratings: tuple[str, ...] = ()
    department: str | None = None


@dataclass(frozen=True)
class Place:
    grid_a: str       # most cases
    grid_b: str       # one case, in another sub-district
    person: int


@pytest.fixture
def place(db_session: Session) -> Place:
    grids = db_session.execute(text("""
        SELECT DISTINCT ON (left(code, 9)) code FROM grid WHERE code LIKE '210103%'
        ORDER BY left(code, 9), code LIMIT 2""")).scalars().all()
    person = db_session.execute(text("SELECT min(id) FROM person")).scalar_one()
    return Place(grids[0], grids[1], int(person))


def specs(p: Place) -> list[Spec]:
    """Seven cases over January–March 2020 (local months), see the expected figures below."""
    return [
        # A: on time throughout; rated dissatisfied, then satisfied (the last rating counts).
        Spec("A", p.grid_a, local(2020, 1, 10, 9), "heating", "closed", 4, 48, 1, 10,
             ("dissatisfied", "satisfied"), "housing"),
        # B: 23:30 on 31 January in Shenyang (15:30 UTC) → January; late response (5 h > 4 h)
        # and late resolution (30 h > 24 h).
        Spec("B", p.grid_a, local(2020, 1, 31, 23, 30), "heating", "rated", 4, 24, 5, 30,
             ("basically_satisfied",), "housing"),
        # C: resolved, rated dissatisfied, reopened: not resolved now, past its deadline.
        Spec("C", p.grid_a, local(2020, 1, 20, 10), "water_supply", "in_progress", 4, 24, 2, 20,
             ("dissatisfied",)),
        # D: cancelled (a duplicate): counted in cases, left out of every rate.
        Spec("D", p.grid_a, local(2020, 1, 15, 10), "heating", "cancelled", 4, 48, 1),
        # E: 00:30 on 1 February in Shenyang (16:30 UTC on 31 January) → February; never answered.
        Spec("E", p.grid_a, local(2020, 2, 1, 0, 30), "gas", "reported", 1, 12),
        # F: in another sub-district; resolved on time after 40 h.
        Spec("F", p.grid_b, local(2020, 3, 5, 8), "heating", "resolved", 24, 72, 3, 40,
             department="housing"),
        # G: reported the day before AS_OF: both deadlines still ahead, so not yet judged.
        Spec("G", p.grid_a, local(2020, 3, 19, 12), "elderly_support", "reported", 24, 72),
    ]


_INSERT = text("""
    INSERT INTO "case" (category, description, geom, grid_code, community_code, subdistrict_code,
                        district_code, channel, state, owner_kind, owner_department, rating,
                        created_by, created_at, updated_at, respond_by, resolve_by, responded_at,
                        resolved_at)
    SELECT :category, :key, ST_PointOnSurface(g.geom), g.code, left(g.code, 12), left(g.code, 9),
           left(g.code, 6), 'grid_patrol', :state, :owner_kind, :department, :rating, :person,
           :created, :created, :respond_by, :resolve_by, :responded_at, :resolved_at
    FROM grid g WHERE g.code = :grid
    RETURNING id
""")
_EVENT = text("""
    INSERT INTO case_event (case_id, action, from_state, to_state, actor_id, payload, created_at)
    VALUES (:case_id, :action, :from_state, :to_state, :person, CAST(:payload AS jsonb), :at)
""")


def insert(session: Session, p: Place) -> None:
    for s in specs(p):
        def after(hours: float | None, s: Spec = s) -> datetime | None:
            return None if hours is None else s.created + hours * H
        # The row's rating column deliberately disagrees with the events for A: the figure must
        # come from the newest 'rate' event.
        column_rating = "dissatisfied" if s.key == "A" else (s.ratings[-1] if s.ratings else None)
        case_id = session.execute(_INSERT, {
            "category": s.category, "key": s.key, "state": s.state, "grid": s.grid,
            "owner_kind": "department" if s.department else "grid", "department": s.department,
            "rating": column_rating, "person": p.person, "created": s.created,
            "respond_by": after(s.respond_h), "resolve_by": after(s.resolve_h),
            "responded_at": after(s.responded_h), "resolved_at": after(s.resolved_h),
        }).scalar_one()
        session.execute(_EVENT, {"case_id": case_id, "action": "report", "from_state": None,
                                 "to_state": "reported", "person": p.person, "payload": "{}",
                                 "at": s.created})
        for i, rating in enumerate(s.ratings):
            to_state = "in_progress" if rating == "dissatisfied" else "rated"
            session.execute(_EVENT, {"case_id": case_id, "action": "rate", "from_state": "verified",
                                     "to_state": to_state, "person": p.person,
                                     "payload": f'{{"rating": "{rating}"}}',
                                     "at": s.created + (50 + i) * H})


CITY = Principal(account_id=1, person_id=1, role=Role.PLANNER)  # a city planner sees all


def run(session: Session, who: Principal = CITY, **args: str) -> dict[str, Any]:
    query, months = case_stats.parse_query(args, now=AS_OF)
    return case_stats.stats(session, who, query, months, lang="zh")


def residents(session: Session, where: str, **params: str) -> int:
    return int(session.execute(text(f"SELECT coalesce(sum(residents), 0) FROM building b WHERE {where}"),  # noqa: S608
                               params).scalar_one())


def test_district_totals_months_categories_states(db_session: Session, place: Place) -> None:
    insert(db_session, place)
    got = run(db_session, level="district", code="210103", **{"from": "2020-01", "to": "2020-03"})
    total = got["total"]
    people = residents(db_session, "b.grid_code LIKE '210103%'")
    assert people > 0
    # Valid cases: A B C E F G (D is cancelled).
    assert (total["cases"], total["cancelled"], total["valid"]) == (7, 1, 6)
    assert total["response_rate"] == pytest.approx(4 / 6)               # A B C F responded
    assert total["on_time_response_rate"] == pytest.approx(3 / 5)       # A C F of A B C E F
    assert total["resolution_rate"] == pytest.approx(3 / 6)             # A B F (C was reopened)
    assert total["on_time_resolution_rate"] == pytest.approx(2 / 5)     # A F of A B C E F
    assert total["satisfaction_rate"] == pytest.approx(2 / 3)           # A(last: satisfied) B; C no
    assert total["median_hours"] == pytest.approx(30.0)                 # median of 10, 30, 40
    assert total["residents"] == people
    assert total["per_1000"] == pytest.approx(round(7 * 1000 / people, 3))

    months = {m["month"]: m for m in got["months"]}
    assert list(months) == ["2020-01", "2020-02", "2020-03"]
    jan, feb, mar = months["2020-01"], months["2020-02"], months["2020-03"]
    assert (jan["cases"], jan["valid"], jan["responded"], jan["resolved"]) == (4, 3, 3, 2)  # A B C D
    assert jan["median_hours"] == pytest.approx(20.0)                   # median of 10, 30
    assert jan["satisfaction_rate"] == pytest.approx(2 / 3)
    assert (feb["cases"], feb["response_rate"], feb["on_time_response_rate"]) == (1, 0.0, 0.0)  # E
    assert (feb["median_hours"], feb["satisfaction_rate"]) == (None, None)
    assert (mar["cases"], mar["response_decided"], mar["resolution_decided"]) == (2, 1, 1)  # F; G not due
    assert mar["on_time_resolution_rate"] == 1.0

    assert [(c["code"], c["cases"]) for c in got["top_categories"]] == [
        ("heating", 4), ("elderly_support", 1), ("gas", 1), ("water_supply", 1)]
    assert got["top_categories"][0]["name"] == "供暖"
    assert got["states"] == {"closed": 1, "rated": 1, "in_progress": 1, "cancelled": 1,
                             "reported": 2, "resolved": 1}


def test_district_children_are_its_subdistricts(db_session: Session, place: Place) -> None:
    insert(db_session, place)
    got = run(db_session, level="district", code="210103", **{"from": "2020-01", "to": "2020-03"})
    assert got["child_level"] == "subdistrict"
    children = {c["code"]: c for c in got["children"]}
    all_subdistricts = db_session.execute(
        text("SELECT count(*) FROM subdistrict WHERE district_code = '210103'")).scalar_one()
    assert len(children) == all_subdistricts          # sub-districts without cases are listed too
    a, b = children[place.grid_a[:9]], children[place.grid_b[:9]]
    assert (a["cases"], b["cases"]) == (6, 1)
    assert b["resolution_rate"] == 1.0 and b["median_hours"] == pytest.approx(40.0)
    assert a["residents"] == residents(db_session, "left(b.grid_code, 9) = :s", s=place.grid_a[:9])
    quiet = [c for c in got["children"] if c["cases"] == 0]
    assert quiet and quiet[0]["response_rate"] is None and quiet[0]["per_1000"] == 0


def test_month_boundaries_are_shenyang_months(db_session: Session, place: Place) -> None:
    insert(db_session, place)
    got = run(db_session, level="grid", code=place.grid_a, **{"from": "2020-02", "to": "2020-02"})
    assert got["total"]["cases"] == 1                 # E only: B (23:30 local, 31 Jan) is January
    assert got["child_level"] is None and got["children"] == []
    assert [p["level"] for p in got["unit"]["path"]] == ["district", "subdistrict", "community", "grid"]


def test_department_counts_its_cases_and_enrolled_population(db_session: Session,
                                                            place: Place) -> None:
    insert(db_session, place)
    got = run(db_session, level="department", code="housing", **{"from": "2020-01", "to": "2020-03"})
    assert got["unit"]["name"] == "房产"
    total = got["total"]
    assert (total["cases"], total["resolved"], total["on_time_resolution_rate"]) == (3, 3, 2 / 3)
    enrolled = residents(db_session, "b.grid_code IN (SELECT grid_code FROM grid_enrollment "
                                     "WHERE department_code = 'housing')")
    assert total["residents"] == enrolled
    assert {c["code"]: c["cases"] for c in got["children"]} == {place.grid_a[:9]: 2,
                                                                place.grid_b[:9]: 1}


def test_default_range_is_the_last_twelve_local_months() -> None:
    query, months = case_stats.parse_query({"level": "district", "code": "210103"},
                                           now=datetime(2026, 1, 31, 17, tzinfo=UTC))  # 1 Feb local
    assert months[0] == "2025-03" and months[-1] == "2026-02" and len(months) == 12
    assert query.start == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert query.end == datetime(2026, 2, 28, 16, tzinfo=UTC)


@pytest.mark.parametrize("args, fragment", [
    ({"level": "city", "code": "210103"}, "level"),
    ({"level": "district", "code": "21010"}, "6"),
    ({"level": "grid", "code": "210103"}, "15"),
    ({"level": "department", "code": "Housing!"}, "department"),
    ({"level": "district", "code": "210103", "from": "2020-13"}, "YYYY-MM"),
    ({"level": "district", "code": "210103", "from": "2020-05", "to": "2020-01"}, "from is after to"),
    ({"level": "district", "code": "210103", "from": "2010-01", "to": "2020-01"}, "at most"),
])
def test_invalid_input(args: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        case_stats.parse_query(args, now=AS_OF)


def test_unknown_unit_is_not_found(db_session: Session) -> None:
    query, months = case_stats.parse_query({"level": "subdistrict", "code": "210103999"}, now=AS_OF)
    with pytest.raises(NotFound):
        case_stats.stats(db_session, CITY, query, months, lang="zh")


def test_a_department_seen_from_a_community_counts_only_inside_it(db_session: Session,
                                                                 place: Place) -> None:
    insert(db_session, place)
    community = place.grid_a[:12]
    staff = Principal(account_id=2, person_id=1, role=Role.COMMUNITY_STAFF, area_code=community)
    got = run(db_session, staff, level="department", code="housing",
              **{"from": "2020-01", "to": "2020-03"})
    assert got["total"]["cases"] == 2  # A and B; F (another sub-district) is not theirs
    assert {c["code"] for c in got["children"]} == {place.grid_a[:9]}
    enrolled = residents(db_session, "b.grid_code IN (SELECT grid_code FROM grid_enrollment "
                                     "WHERE department_code = 'housing') AND b.grid_code LIKE :c",
                         c=community + "%")
    assert got["total"]["residents"] == enrolled
    assert run(db_session, staff, level="grid", code=place.grid_a,
               **{"from": "2020-01", "to": "2020-03"})["total"]["cases"] == 6


@pytest.mark.parametrize(("who", "error"), [
    (Principal(), Unauthorized),
    (Principal(account_id=3, person_id=1, role=Role.GRID_WORKER, grids=frozenset({"x"})), Forbidden),
    (Principal(account_id=3, person_id=1, role=Role.DATA_OFFICER), Forbidden),
    (Principal(account_id=3, person_id=1, role=Role.PLANNER, area_code="210104"), Forbidden),
    (Principal(account_id=3, person_id=1, role=Role.SUBDISTRICT_STAFF, area_code="210103001"),
     Forbidden),
])
def test_statistics_outside_one_s_area_or_role_are_refused(db_session: Session, who: Principal,
                                                           error: type[Exception]) -> None:
    with pytest.raises(error):
        run(db_session, who, level="district", code="210103")
