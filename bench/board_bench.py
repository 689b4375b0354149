"""Case board query time on 500,000 cases, for every combination of filters.

Usage (after `make setup`):  .venv/bin/python bench/board_bench.py [--cases 500000]
Uses the city-scale benchmark database (see locate_bench.py). Tops its case table up to
``--cases`` synthetic cases spread over the last 12 months (inserted by one SQL statement: the
board needs rows, not histories), then times the board service (query + row shaping, as the
API runs it) for the first page and for a page five cursors deep, for each filter alone and
for combinations of two and three filters.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.cases.services import board as case_board  # noqa: E402
from gridmap.config import Settings  # noqa: E402

# Every case, as an administrator reads them: this bench times the filters; boards scoped to a
# grid worker, a community, a department and a district are the scope bench's subject.
ADMIN = Principal(account_id=0, person_id=0, role=Role.ADMIN, username="board-bench")

FILL_SQL = """
WITH g AS (SELECT code, row_number() OVER (ORDER BY code) AS n FROM grid),
     gc AS (SELECT count(*) AS total FROM grid),
     cat AS (SELECT code, default_departments, respond_hours, resolve_hours,
                    row_number() OVER (ORDER BY code) AS n FROM case_category),
     cc AS (SELECT count(*) AS total FROM case_category),
     worker AS (SELECT DISTINCT ON (grid_code) grid_code, person_id FROM grid_member
                WHERE role = 'grid_worker')
INSERT INTO "case" (category, description, geom, grid_code, community_code, subdistrict_code,
                    district_code, channel, state, owner_kind, owner_department, created_by,
                    created_at, updated_at, respond_by, resolve_by, resolved_at, closed_at,
                    synthetic)
SELECT cat.code, '基准测试案件 ' || s.i, ST_PointOnSurface(gr.geom), g.code, left(g.code, 12),
       left(g.code, 9), left(g.code, 6),
       (ARRAY['grid_patrol','hotline_12345','walk_in','resident','proactive_visit'])[1 + s.i % 5],
       st.state,
       CASE WHEN st.state = 'reported' OR cardinality(cat.default_departments) = 0 THEN NULL
            ELSE 'department' END,
       CASE WHEN st.state = 'reported' OR cardinality(cat.default_departments) = 0 THEN NULL
            ELSE cat.default_departments[1] END,
       w.person_id, t.created, t.created,
       t.created + make_interval(secs => cat.respond_hours * 3600),
       t.created + make_interval(secs => cat.resolve_hours * 3600),
       CASE WHEN st.state IN ('resolved','verified','rated','closed')
            THEN t.created + make_interval(secs => cat.resolve_hours * 3000) END,
       CASE WHEN st.state IN ('closed','cancelled')
            THEN t.created + make_interval(secs => cat.resolve_hours * 3600) END,
       true
FROM generate_series(1, :n) AS s(i)
CROSS JOIN gc CROSS JOIN cc
JOIN g ON g.n = 1 + (hashint4(s.i) & 2147483647) % gc.total
JOIN grid gr ON gr.code = g.code
JOIN cat ON cat.n = 1 + (hashint4(s.i + 7) & 2147483647) % cc.total
JOIN worker w ON w.grid_code = g.code
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => (hashint4(s.i + 13) & 2147483647)
                                                  % (365 * 86400)) AS created) t
CROSS JOIN LATERAL (SELECT CASE
    WHEN t.created > now() - interval '3 days' THEN
         (ARRAY['reported','dispatched','in_progress','resolved'])[1 + s.i % 4]
    WHEN t.created > now() - interval '20 days' THEN
         (ARRAY['dispatched','in_progress','suspended','resolved','verified','closed'])[1 + s.i % 6]
    WHEN s.i % 50 = 0 THEN 'in_progress'
    WHEN s.i % 33 = 0 THEN 'cancelled'
    ELSE 'closed' END AS state) st
"""


def fill(session: Session, target: int) -> int:
    """Insert synthetic cases until there are ``target``; returns the count."""
    have = session.execute(text('SELECT count(*) FROM "case"')).scalar_one()
    if have < target:
        session.execute(text(FILL_SQL), {"n": target - have})
        session.commit()
        session.execute(text('ANALYZE "case"'))
        session.commit()
    count: int = session.execute(text('SELECT count(*) FROM "case"')).scalar_one()
    return count


def sample_filters(session: Session) -> dict[str, str]:
    """Real values for each filter, from a busy grid."""
    row = session.execute(text("""
        SELECT grid_code, community_code, subdistrict_code, district_code
        FROM "case" GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC LIMIT 1""")).one()
    return {"grid": row[0], "community": row[1], "subdistrict": row[2], "district": row[3],
            "state": "in_progress,dispatched", "category": "heating", "department": "heating",
            "from": "2026-06-01", "to": "2026-09-30", "overdue": "1"}


def timed(session: Session, args: dict[str, str], depth: int, repeats: int) -> list[float]:
    """Milliseconds to get page ``depth`` (following cursors), ``repeats`` times."""
    filters = case_board.parse_filter(args)
    times = []
    for _ in range(repeats):
        cursor = None
        for _ in range(depth):
            body = case_board.page(session, ADMIN, filters, cursor=cursor, limit=50, lang="zh")
            cursor = body["next_cursor"]
            if cursor is None:
                break
        t0 = time.perf_counter()
        case_board.page(session, ADMIN, filters, cursor=cursor, limit=50, lang="zh")
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    url = ensure_bench_db(Settings.from_env().database_url, "city")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with Session(engine) as session:
        count = fill(session, args.cases)
        values = sample_filters(session)
        names = ["", *values]
        combos = [c for k in (1, 2, 3) for c in itertools.combinations(values, k)
                  if not ({"grid", "community", "subdistrict", "district"} & set(c)
                          and len({"grid", "community", "subdistrict", "district"} & set(c)) > 1)]
        results = []
        for combo in [(), *combos]:
            query = {k: values[k] for k in combo}
            for depth in (0, 5):
                ms = timed(session, query, depth, args.repeats)
                results.append((",".join(combo) or "(none)", depth, ms))
    engine.dispose()
    every = [m for _, _, ms in results for m in ms]
    worst = sorted(results, key=lambda r: -statistics.quantiles(r[2] + r[2], n=20)[18])[:8]
    print(f"{count} cases; {len(results)} filter combinations x (first page, page 6), "
          f"{args.repeats} runs each; filters used: {values}; names: {len(names) - 1}")
    print(f"all queries: p50 {statistics.median(every):.1f} ms, "
          f"p95 {statistics.quantiles(every, n=20)[18]:.1f} ms, max {max(every):.1f} ms")
    print("| slowest combinations | page | p50 ms | max ms |")
    print("|---|---:|---:|---:|")
    for combo, depth, ms in worst:
        print(f"| {combo} | {depth + 1} | {statistics.median(ms):.1f} | {max(ms):.1f} |")


if __name__ == "__main__":
    main()
