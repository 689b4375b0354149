"""The care register's zero-report overview for the whole city: one set-based statement vs a
per-grid loop (issue 13: "14,000 grids, under 1 s").

Usage (on the city-scale database, read-only: every care table is a TEMP table of this session,
shadowing the real ones, so nothing of the database is changed and no lock is taken on it):

    set -a; source .gridmap/env; set +a
    .venv/bin/python bench/care_overview_bench.py [--database gridmap_perf_b] [--share 0.015]

Register entries: ``share`` of each building's residents (≈1.5 %), reasons drawn at the seeds'
mix, last visits 0-40 days ago (and one 20 days before each, as the entries' ``visit_months``:
the month's checklist reads them), explanations for a tenth of the entries, zero reports for
80 % of grids. Times are medians of 5 runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gridmap.care.rules import FALLBACK_INTERVAL_DAYS, month_bounds, report_deadline, this_month
from gridmap.sqlfiles import sql

SETUP = """
CREATE TEMP TABLE care_rule (id bigint, reasons varchar[], interval_days int);
INSERT INTO care_rule VALUES (1, '{aged_80_plus,living_alone}', 7), (2, '{living_alone}', 14),
  (3, '{aged_80_plus}', 14), (4, '{disabled}', 14), (5, '{left_behind_child}', 14),
  (6, '{empty_nest}', 30), (7, '{low_income}', 30);
CREATE TEMP TABLE care_entry AS
  SELECT row_number() OVER () AS id, b.id AS building_id, true AS active,
         now() - random() * interval '400 days' AS created_at,
         now() - random() * interval '40 days' AS last_visit_at,
         CAST(NULL AS timestamptz) AS closed_at
  FROM building b, generate_series(1, greatest(1, round(b.residents * :share)::int)) s
  WHERE b.residents > 0;
ALTER TABLE care_entry ADD PRIMARY KEY (id);
CREATE INDEX ON care_entry (building_id) WHERE active;
ALTER TABLE care_entry ADD COLUMN visit_months date[];
UPDATE care_entry SET visit_months = ARRAY(SELECT DISTINCT CAST(date_trunc('month',
  t AT TIME ZONE 'UTC' + interval '8 hours') AS date)
  FROM unnest(ARRAY[last_visit_at, last_visit_at - interval '20 days']) t);
CREATE TEMP TABLE care_explanation AS
  SELECT id AS entry_id, date_trunc('month', now())::date AS month, 'x'::text AS reason
  FROM care_entry WHERE id % 10 = 0;
ALTER TABLE care_explanation ADD PRIMARY KEY (entry_id, month);
CREATE TEMP TABLE care_entry_reason AS
  SELECT id AS entry_id, (ARRAY['living_alone','empty_nest','aged_80_plus','disabled',
         'low_income','left_behind_child'])[1 + (id % 6)]::varchar AS reason FROM care_entry
  UNION SELECT id, 'aged_80_plus' FROM care_entry WHERE id % 3 = 0;
ALTER TABLE care_entry_reason ADD PRIMARY KEY (entry_id, reason);
CREATE TEMP TABLE care_zero_report AS
  SELECT row_number() OVER () AS id, code AS grid_code, date_trunc('month', now())::date AS month,
         now() AS submitted_at, true AS no_new_difficulty
  FROM grid WHERE random() < 0.8;
CREATE UNIQUE INDEX ON care_zero_report (grid_code, month);
ANALYZE care_entry; ANALYZE care_entry_reason; ANALYZE care_zero_report; ANALYZE care_rule;
ANALYZE care_explanation;
"""
PER_GRID = """
SELECT count(*), count(*) FILTER (WHERE coalesce(e.last_visit_at, e.created_at)
  + make_interval(days => coalesce((SELECT min(r.interval_days) FROM care_rule r
      WHERE r.reasons <@ (SELECT array_agg(x.reason)::varchar[] FROM care_entry_reason x
                          WHERE x.entry_id = e.id)), :fallback)) < now())
FROM care_entry e JOIN building b ON b.id = e.building_id WHERE b.grid_code = :grid AND e.active
"""


def _median(run: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="gridmap_perf_b")
    parser.add_argument("--share", type=float, default=0.015)
    parser.add_argument("--loop-grids", type=int, default=1000)
    parser.add_argument("--compare", type=Path, default=None,
                        help="another version of overview.sql to time in the same run")
    args = parser.parse_args()
    url = make_url(os.environ["GRIDMAP_DATABASE_URL"]).set(database=args.database)
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SET default_transaction_read_only = off"))
        for statement in SETUP.split(";\n"):
            if statement.strip():
                conn.execute(text(statement), {"share": args.share})
        entries = conn.execute(text("SELECT count(*) FROM care_entry")).scalar_one()
        grids = conn.execute(text("SELECT code FROM grid ORDER BY code")).scalars().all()
        now = datetime.now(UTC)
        month = this_month(now)
        start, end = month_bounds(month)
        params = {"prefix": "", "month": month, "now": now, "start": start, "end": end,
                  "deadline": report_deadline(month),
                  "fallback_days": FALLBACK_INTERVAL_DAYS, "problems_only": False}

        def city(with_geom: bool) -> None:
            conn.execute(sql("care/overview"), {**params, "with_geom": with_geom}).all()

        def loop() -> None:
            for code in grids[:args.loop_grids]:
                conn.execute(text(PER_GRID), {"grid": code, "fallback": 30}).one()

        other = None
        if args.compare is not None:
            statement = text(args.compare.read_text(encoding="utf-8"))
            other = _median(lambda: conn.execute(statement, {**params,
                                                             "with_geom": False}).all())
        set_based = _median(lambda: city(False))
        with_geom = _median(lambda: city(True))
        looped = _median(loop, repeat=1) * len(grids) / args.loop_grids
        conn.rollback()
    print(f"{len(grids):,} grids, {entries:,} register entries ({args.share:.1%} of residents)")
    print(f"set-based overview, whole city:            {set_based * 1000:8.0f} ms")
    print(f"set-based overview with grid polygons:     {with_geom * 1000:8.0f} ms")
    if other is not None:
        print(f"{str(args.compare)[:40]:<40}   {other * 1000:8.0f} ms (same run)")
    print(f"per-grid loop (from {args.loop_grids} grids, scaled): {looped * 1000:8.0f} ms "
          f"({looped / set_based:.0f}x the set-based statement)")


if __name__ == "__main__":
    main()
