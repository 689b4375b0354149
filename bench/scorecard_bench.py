"""Monthly scorecards (考核) for a month of ~40,000 cases, each level, against a bare count.

Usage (after `make setup`):  .venv/bin/python bench/scorecard_bench.py [--cases 120000]

``gridmap_perf_b`` (the city: 14,471 grids, 2,703 communities) holds no case and is read-only
for benches, so the script copies it (``CREATE DATABASE gridmap_scorecard_bench TEMPLATE
gridmap_perf_b``, which PostgreSQL allows only while nobody is connected to the template: the
script refuses otherwise), fills the copy with ``--cases`` synthetic cases spread evenly over
the last 92 days (bench/board_bench.py's statement; with 120,000 that puts ~40,000 in the last
complete month and ~39,000 in the month before it), rates two thirds of the closed ones (a
``rate`` event each, a tenth dissatisfied and reopened), times every scorecard and the
workbook, and drops the copy (``--keep`` keeps it for another run; ``--copy NAME`` names it,
so two people's benches never share or drop each other's copy).

It also fills the copy's care register (once; kept with ``--keep``): entries for ~1.5 % of
each building's residents (the seeds' 1-3 %), two to six visits each over the last 92 days,
explanations for a tenth of the entries a month, and zero reports for 90 % of the grids in each
of the last three months, filed between the 1st and the 8th of the next month (some late).

For each level the scorecard service runs as the API runs it (the one query, the merge, change
and rank columns) for the whole city and for the busiest district, ``--repeats`` times; the
"bare count" row is ``SELECT grid_code, count(*) … GROUP BY 1`` over the same month, the least
any per-unit figure costs, so the ratio says what the flags, ranks and lags add. "cases only" is
the same scorecard with the case source alone (the scorecards before the care register's
metrics), in the same run.

The workbook (every level and the definitions, as the API builds it) is timed three times,
wall and this process's CPU time, against the city's JSON grid scorecard of the same run;
``--compare-workbook FILE`` times another version of ``gridmap/scorecards/workbook.py`` (e.g.
``git show lead:gridmap/scorecards/workbook.py > /tmp/workbook_before.py``) alternately with
this one.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql as pgsql
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.board_bench import fill  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.scorecards import columns as cols  # noqa: E402
from gridmap.scorecards import workbook  # noqa: E402
from gridmap.scorecards.services import scorecards  # noqa: E402

TEMPLATE = "gridmap_perf_b"
COPY = "gridmap_scorecard_bench"  # --copy NAME: another name, so two benches never share one
CITY = Principal(account_id=0, person_id=0, role=Role.PLANNER, username="scorecard-bench")
RATE_SQL = """
WITH rated AS (
    UPDATE "case" SET rating = CASE WHEN id % 10 = 0 THEN 'dissatisfied'
                                    WHEN id % 3 = 0 THEN 'basically_satisfied'
                                    ELSE 'satisfied' END,
                      reopen_count = CASE WHEN id % 10 = 0 THEN 1 ELSE 0 END
    WHERE state = 'closed' AND id % 3 <> 1 RETURNING id, rating, created_by, closed_at)
INSERT INTO case_event (case_id, action, from_state, to_state, actor_id, payload, created_at)
SELECT id, 'rate', 'verified', 'rated', created_by, jsonb_build_object('rating', rating),
       closed_at FROM rated
"""

CARE_SQL = """
INSERT INTO care_entry (building_id, name, created_by, created_at, synthetic)
SELECT b.id, '基准', (SELECT min(id) FROM person), now() - random() * interval '400 days', true
FROM building b, generate_series(1, greatest(1, round(b.residents * 0.015)::int)) s
WHERE b.residents > 0;
INSERT INTO care_entry_reason (entry_id, reason)
SELECT id, (ARRAY['living_alone','empty_nest','aged_80_plus','disabled','low_income',
                  'left_behind_child'])[1 + (id % 6)] FROM care_entry;
INSERT INTO care_visit (entry_id, visited_at, visitor_id, synthetic)
SELECT e.id, now() - random() * interval '92 days', e.created_by, true
FROM care_entry e, generate_series(1, 2 + (e.id % 5)::int) s;
INSERT INTO care_explanation (entry_id, month, reason, explained_by)
SELECT e.id, m.month, '住院', e.created_by
FROM care_entry e, (SELECT (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')
                            - make_interval(months => k))::date AS month
                    FROM generate_series(0, 2) k) m
WHERE e.id % 10 = 0;
INSERT INTO care_zero_report (grid_code, month, no_new_difficulty, submitted_by, submitted_at,
                              synthetic)
SELECT g.code, m.month, true, (SELECT min(id) FROM person),
       (m.month + interval '1 month' + random() * interval '8 days') AT TIME ZONE 'Asia/Shanghai',
       true
FROM grid g, (SELECT (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')
                      - make_interval(months => k))::date AS month
              FROM generate_series(1, 3) k) m
WHERE random() < 0.9
"""


def _admin_url() -> str:
    owner = os.environ.get("GRIDMAP_OWNER_DATABASE_URL") or os.environ["GRIDMAP_DATABASE_URL"]
    return make_url(owner).set(database="postgres").render_as_string(hide_password=False)


def make_copy(copy: str) -> str:
    """Copy the template when nobody uses it; the copy's URL (the schema owner's)."""
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        users = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                             (TEMPLATE,)).fetchone()
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (copy,)).fetchone()
        if not exists:
            if users and users[0]:
                sys.exit(f"{TEMPLATE} has {users[0]} connection(s): not copying it now")
            conn.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                pgsql.Identifier(copy), pgsql.Identifier(TEMPLATE)))
    owner = os.environ.get("GRIDMAP_OWNER_DATABASE_URL") or os.environ["GRIDMAP_DATABASE_URL"]
    copy_url = make_url(owner).set(database=copy).render_as_string(hide_password=False)
    app_url = make_url(os.environ["GRIDMAP_DATABASE_URL"]).set(database=copy)
    # The template may lag the migrations (gridmap_perf_b stood at 0012): bring the copy to head.
    env = {**os.environ, "GRIDMAP_DATABASE_URL": app_url.render_as_string(hide_password=False),
           "GRIDMAP_OWNER_DATABASE_URL": copy_url}
    gridmap = str(Path(sys.executable).with_name("gridmap"))
    subprocess.run([gridmap, "db", "upgrade"], env=env, check=True)
    return copy_url


def drop_copy(copy: str) -> None:
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(copy)))


def seed(session: Session, cases: int) -> None:
    if fill(session, cases, days=92) and not session.execute(text(
            "SELECT count(*) FROM case_event WHERE action = 'rate'")).scalar_one():
        session.execute(text(RATE_SQL))
        session.commit()
        session.execute(text("ANALYZE case_event"))
        session.execute(text('ANALYZE "case"'))
        session.commit()
    if not session.execute(text("SELECT count(*) FROM care_entry")).scalar_one():
        for statement in CARE_SQL.split(";\n"):
            session.execute(text(statement))
        session.commit()
        for table in ("care_entry", "care_entry_reason", "care_visit", "care_explanation",
                      "care_zero_report"):
            session.execute(text(f"ANALYZE {table}"))
        session.commit()


def timed(run: object, repeats: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=120_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the copy for another run")
    parser.add_argument("--compare-workbook", type=Path, metavar="FILE",
                        help="another gridmap/scorecards/workbook.py to time alongside this one")
    parser.add_argument("--copy", default=COPY, help=f"the copy's name (default {COPY})")
    args = parser.parse_args()
    url = make_copy(args.copy)
    try:
        report(url, args.cases, args.repeats, args.compare_workbook)
    finally:
        if not args.keep:
            drop_copy(args.copy)


def report(url: str, cases: int, repeats: int, compare: Path | None) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        seed(session, cases)
        q = scorecards.parse_month({}, now=now)  # the last complete month
        month = scorecards.month_label(q)
        n = session.execute(text("""SELECT count(*) FROM "case" WHERE created_at >= :a
            AND created_at < :b"""), {"a": f"{month}-01T00:00:00+08:00",
                                      "b": _next(month)}).scalar_one()
        district = session.execute(text("""SELECT district_code FROM "case" GROUP BY 1
            ORDER BY count(*) DESC LIMIT 1""")).scalar_one()
        care = session.execute(text("SELECT (SELECT count(*) FROM care_entry), "
                                    "(SELECT count(*) FROM care_visit), "
                                    "(SELECT count(*) FROM care_zero_report)")).one()
        print(f"month {month}: {n} cases (of {cases}); care register: {care[0]} entries, "
              f"{care[1]} visits, {care[2]} zero reports; busiest district {district}; "
              f"{repeats} runs each, ms")
        print("| scorecard | area | rows | median ms | max ms | ratio to bare count "
              "| cases only, median ms |")
        print("|---|---|---:|---:|---:|---:|---:|")
        bare, _ = timed(lambda: session.execute(text("""SELECT grid_code, count(*) FROM "case"
            WHERE created_at >= :a AND created_at < :b GROUP BY 1"""),
            {"a": f"{month}-01T00:00:00+08:00", "b": _next(month)}).all(), repeats)
        base = statistics.median(bare)
        grid_city = base  # replaced by the city's grid scorecard below
        print(f"| bare count per grid | city | | {base:.0f} | {max(bare):.0f} | 1.0 |")
        for level in scorecards.LEVELS:
            for area in (None, district):
                mq = scorecards.MonthQuery(month=q.month, area=area, as_of=now)
                ms, body = timed(lambda mq=mq, level=level: scorecards.scorecard(
                    session, CITY, level, mq, lang="zh"), repeats)
                alone, _ = timed(lambda mq=mq, level=level: cases_only(session, level, mq),
                                 repeats)
                rows = len(body["rows"])  # type: ignore[index]
                if level == "grid" and area is None:
                    grid_city = statistics.median(ms)
                print(f"| {level} | {area or 'city'} | {rows} | {statistics.median(ms):.0f} | "
                      f"{max(ms):.0f} | {statistics.median(ms) / base:.1f} | "
                      f"{statistics.median(alone):.0f} |")
        workbooks(session, q.month, district, now, grid_city, compare)


def workbooks(session: Session, month: int, district: str, now: datetime, grid_city: float,
              compare: Path | None) -> None:
    """The workbook as the API builds it (the four scorecards, then the file), wall and CPU
    time, against the city's JSON grid scorecard of the same run; with ``compare``, another
    version of ``gridmap/scorecards/workbook.py`` timed alternately with this one."""
    builders: list[tuple[str, ModuleType]] = [("this", workbook)]
    if compare is not None:
        spec = importlib.util.spec_from_file_location("compared_workbook", compare)
        assert spec is not None and spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        builders.insert(0, (compare.name, other))
    runs = 3
    print(f"\nworkbook, 4 sheets + definitions; {runs} runs each, alternating; CPU is this "
          "process's (building and reading rows), not PostgreSQL's")
    print("| workbook.py | area | MiB | Python peak MiB | median ms | max ms | median CPU ms "
          "| ratio to the JSON grid scorecard (city) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for area in (None, district):
        wq = scorecards.MonthQuery(month=month, area=area, as_of=now)
        wall: dict[str, list[float]] = {name: [] for name, _ in builders}
        cpu: dict[str, list[float]] = {name: [] for name, _ in builders}
        size: dict[str, int] = {}
        for _ in range(runs):
            for name, module in builders:
                scorecards.workbook = module  # type: ignore[attr-defined]
                try:
                    start, started = time.perf_counter(), time.process_time()
                    size[name] = len(scorecards.workbook_bytes(session, CITY, wq, lang="zh"))
                    wall[name].append((time.perf_counter() - start) * 1000)
                    cpu[name].append((time.process_time() - started) * 1000)
                finally:
                    scorecards.workbook = workbook  # type: ignore[attr-defined]
        for name, module in builders:
            scorecards.workbook = module  # type: ignore[attr-defined]
            tracemalloc.start()  # a run of its own: tracing slows Python down several times
            try:
                scorecards.workbook_bytes(session, CITY, wq, lang="zh")
                peak = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
                scorecards.workbook = workbook  # type: ignore[attr-defined]
            median = statistics.median(wall[name])
            print(f"| {name} | {area or 'city'} | {size[name] / 2**20:.1f} | {peak:.0f} | "
                  f"{median:.0f} | {max(wall[name]):.0f} | {statistics.median(cpu[name]):.0f} | "
                  f"{median / grid_city:.1f} |")


def cases_only(session: Session, level: str, mq: scorecards.MonthQuery) -> object:
    """The scorecard with the case source alone (as before the care register's metrics)."""
    every = dict(scorecards.SOURCES)
    scorecards.SOURCES.clear()
    scorecards.SOURCES[cols.CASES] = every[cols.CASES]
    try:
        return scorecards.scorecard(session, CITY, level, mq, lang="zh")
    finally:
        scorecards.SOURCES.update(every)


def _next(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return f"{year:04d}-{mon:02d}-01T00:00:00+08:00"


if __name__ == "__main__":
    main()
