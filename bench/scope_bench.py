"""The case board as four kinds of account see it, on 2,000,000 cases (five years of a city).

Usage (after `make setup`):  .venv/bin/python bench/scope_bench.py [--cases 2000000]
Uses the city-scale benchmark database (see locate_bench.py). Tops its case table up to
``--cases`` synthetic cases over the last five years (bench/board_bench.py's statement) and
whistles a department into 3 % of the department-owned cases, so a department's board has both
halves of its scope. Then, for a grid worker (the busiest grid's), a community, a department
staff member (the one enrolled in most grids) and a district command centre, times the board
service as the API runs it — scope condition, query and row shaping, 50 rows — for the first
page and the page five cursors deep, with no filter and with each common filter.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.board_bench import fill  # noqa: E402
from bench.locate_bench import ensure_bench_db  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.cases.services import board as case_board  # noqa: E402
from gridmap.config import Settings  # noqa: E402

FIVE_YEARS_DAYS = 5 * 365 + 1
WHISTLE_SQL = """
INSERT INTO case_cohandler (case_id, department_code, done, added_at)
SELECT c.id, d.code, c.state IN ('resolved', 'verified', 'rated', 'closed'), c.created_at
FROM "case" c
JOIN LATERAL (SELECT e.department_code AS code FROM grid_enrollment e
              WHERE e.grid_code = c.grid_code AND e.department_code <> c.owner_department
              ORDER BY e.department_code LIMIT 1) d ON true
WHERE c.owner_kind = 'department' AND c.id % 33 = 0 AND c.description LIKE '基准测试案件%'
ON CONFLICT DO NOTHING
"""
BENCH_WHISTLES = """
SELECT count(*) FROM case_cohandler h JOIN "case" c ON c.id = h.case_id
WHERE c.description LIKE '基准测试案件%'
"""
FILTERS: dict[str, dict[str, str]] = {
    "(none)": {},
    "state=in_progress,dispatched": {"state": "in_progress,dispatched"},
    "overdue": {"overdue": "1"},
    "category=heating": {"category": "heating"},
    "last 30 days": {"from": (date.today() - timedelta(days=30)).isoformat()},
}


def whistle(session: Session) -> int:
    """Whistle departments into the benchmark's cases once; the number of co-handler rows."""
    if session.execute(text(BENCH_WHISTLES)).scalar_one() == 0:
        session.execute(text(WHISTLE_SQL))
        session.execute(text("ANALYZE case_cohandler"))
        session.commit()
    count: int = session.execute(text("SELECT count(*) FROM case_cohandler")).scalar_one()
    return count


def principals(session: Session) -> dict[str, Principal]:
    """One account of each kind, scoped to real, busy parts of the city."""
    grid, community, district = session.execute(text("""
        SELECT grid_code, community_code, district_code FROM "case"
        GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1""")).one()
    worker = session.execute(text(
        "SELECT person_id FROM grid_member WHERE grid_code = :g AND role = 'grid_worker'"),
        {"g": grid}).scalar_one()
    worker_grids = session.execute(text(
        "SELECT grid_code FROM grid_member WHERE person_id = :p AND role = 'grid_worker'"),
        {"p": worker}).scalars().all()
    staff, department = session.execute(text("""
        SELECT person_id, department_code FROM grid_enrollment
        GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""")).one()
    staff_grids = session.execute(text(
        "SELECT grid_code FROM grid_enrollment WHERE person_id = :p AND department_code = :d"),
        {"p": staff, "d": department}).scalars().all()
    return {
        f"grid worker ({len(worker_grids)} grid{'s' if len(worker_grids) > 1 else ''})": Principal(
            account_id=1, person_id=worker, role=Role.GRID_WORKER, grids=frozenset(worker_grids)),
        f"community {community}": Principal(account_id=2, person_id=1,
                                            role=Role.COMMUNITY_STAFF, area_code=community),
        f"department {department} ({len(staff_grids)} grids)": Principal(
            account_id=3, person_id=staff, role=Role.DEPARTMENT_STAFF, department_code=department,
            grids=frozenset(staff_grids)),
        f"district {district}": Principal(account_id=4, person_id=1, role=Role.DISTRICT_CENTRE,
                                          area_code=district),
    }


def timed(session: Session, principal: Principal, args: dict[str, str], depth: int,
          repeats: int) -> list[float]:
    """Milliseconds to get page ``depth + 1`` (following cursors), ``repeats`` times."""
    filters = case_board.parse_filter(args)
    times = []
    for _ in range(repeats):
        cursor = None
        for _ in range(depth):
            body = case_board.page(session, principal, filters, cursor=cursor, limit=50,
                                   lang="zh")
            cursor = body["next_cursor"]
            if cursor is None:
                break
        t0 = time.perf_counter()
        case_board.page(session, principal, filters, cursor=cursor, limit=50, lang="zh")
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    url = ensure_bench_db(Settings.from_env().database_url, "city")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    rows: list[tuple[str, str, int, list[float]]] = []
    with Session(engine) as session:
        count = fill(session, args.cases, days=FIVE_YEARS_DAYS)
        whistled = whistle(session)
        accounts = principals(session)
        for who, principal in accounts.items():
            for name, query in FILTERS.items():
                for depth in (0, 5):
                    rows.append((who, name, depth,
                                 timed(session, principal, query, depth, args.repeats)))
    engine.dispose()
    every = [m for *_, ms in rows for m in ms]
    print(f"{count} cases ({whistled} co-handler rows); {len(rows)} (account, filter, page) "
          f"combinations, {args.repeats} runs each")
    print(f"all queries: p50 {statistics.median(every):.1f} ms, "
          f"p95 {statistics.quantiles(every, n=20)[18]:.1f} ms, max {max(every):.1f} ms")
    print("| account | p50 ms | p95 ms | max ms | slowest filter (page) |")
    print("|---|---:|---:|---:|---|")
    for who in accounts:
        mine = [r for r in rows if r[0] == who]
        ms = [m for *_, times in mine for m in times]
        worst = max(mine, key=lambda r: statistics.median(r[3]))
        print(f"| {who} | {statistics.median(ms):.1f} | "
              f"{statistics.quantiles(ms, n=20)[18]:.1f} | {max(ms):.1f} | "
              f"{worst[1]} ({worst[2] + 1}) |")
    print("| slowest (account, filter, page) | p50 ms | max ms |")
    print("|---|---:|---:|")
    for who, name, depth, ms in sorted(rows, key=lambda r: -statistics.median(r[3]))[:6]:
        print(f"| {who}, {name}, page {depth + 1} | {statistics.median(ms):.1f} | {max(ms):.1f} |")


if __name__ == "__main__":
    main()
