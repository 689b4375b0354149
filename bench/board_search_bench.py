"""The case board's text search (issue 12) on 500,000 cases, with and without the trigram
indexes of migration 0018, side by side in one run.

Usage (after `make setup`; the database is a copy, never the shared benchmark database itself):
    createdb -T gridmap_perf_b gridmap_search_bench     # as the owner role, nobody connected
    GRIDMAP_DATABASE_URL=…/gridmap_search_bench GRIDMAP_OWNER_DATABASE_URL=…/gridmap_search_bench \
        .venv/bin/gridmap db upgrade
    GRIDMAP_DATABASE_URL=<the owner's URL>/gridmap_search_bench .venv/bin/python bench/board_search_bench.py

Tops the case table up to ``--cases`` (board_bench.py's statement), gives the cases varied
descriptions and street addresses, then times the board's first page (the service, as the API
runs it) for a few searches, as an administrator (every case) and as a district centre. "without
index" drops the two indexes inside a transaction that is rolled back afterwards (hence the
owner's URL: only the owner may drop them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.board_bench import fill  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.cases.services import board as case_board  # noqa: E402
from gridmap.config import Settings  # noqa: E402

VARY_SQL = """
UPDATE "case" SET
  description = (ARRAY['暖气不热，室温只有十四度', '楼道灯坏了', '垃圾堆放无人清理', '井盖缺失有危险',
                       '下水道堵塞返味', '违章搭建占用通道', '噪音扰民', '路面破损积水',
                       '树木倒伏压住电线', '小区门口占道经营'])[1 + id % 10] || '（编号 ' || id || '）',
  address = s.name || ' ' || (1 + id % 300) || ' 号'
FROM (SELECT name, row_number() OVER (ORDER BY name) - 1 AS n, count(*) OVER () AS total
      FROM (SELECT DISTINCT name FROM street_edge WHERE name <> '') n) s
WHERE s.n = id % s.total AND "case".synthetic AND "case".address = ''
"""

SEARCHES = {
    "a common phrase (暖气不热, 10%)": "暖气不热",
    "the busiest street name": None,            # filled from the data
    "one case's number in the text": "（编号 123457）",
    "no case at all": "这句话没有任何案件包含",
    "two characters (井盖: no trigram)": "井盖",
}


def timed(session: Session, who: Principal, q: str, repeats: int) -> list[float]:
    filters = case_board.parse_filter({"q": q})
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        case_board.page(session, who, filters, cursor=None, limit=50, lang="zh")
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    url = Settings.from_env().database_url
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with Session(engine) as session:
        count = fill(session, args.cases)
        session.execute(text(VARY_SQL))
        session.commit()
        session.execute(text('ANALYZE "case"'))
        session.commit()
        street, district = session.execute(text("""
            SELECT split_part(address, ' ', 1), district_code FROM "case"
            WHERE address <> '' GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""")).one()
        searches = {k: v or street for k, v in SEARCHES.items()}
        people = {"administrator": Principal(account_id=1, person_id=1, role=Role.ADMIN),
                  f"district {district}": Principal(account_id=2, person_id=1,
                                                    role=Role.DISTRICT_CENTRE, area_code=district)}
        rows = []
        for indexed in (True, False):
            if not indexed:
                session.execute(text("DROP INDEX ix_case_description_trgm"))
                session.execute(text("DROP INDEX ix_case_address_trgm"))
            for who_name, who in people.items():
                for name, q in searches.items():
                    ms = timed(session, who, q, args.repeats)
                    rows.append((indexed, who_name, name, q, ms))
            if not indexed:
                session.rollback()                     # the indexes come back
    engine.dispose()
    print(f"{count} cases; {args.repeats} runs each; first page (50 rows)")
    print("| account | search | with index p50 / max ms | without index p50 / max ms | ratio |")
    print("|---|---|---:|---:|---:|")
    half = len(rows) // 2
    for (_, who, name, q, on), (_, _, _, _, off) in zip(rows[:half], rows[half:], strict=True):
        ratio = statistics.median(off) / statistics.median(on)
        print(f"| {who} | {name}: `{q}` | {statistics.median(on):.1f} / {max(on):.1f} "
              f"| {statistics.median(off):.1f} / {max(off):.1f} | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
