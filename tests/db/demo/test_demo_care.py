"""Demo care register on a real PostGIS: the seeds' proportions, flagged synthetic, some visits
overdue, some grids without the month's zero report, and every row one the app could show."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.demo.services.care import write_demo_care

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)


def test_demo_care_register_at_the_seeds_proportions(db_session: Session) -> None:
    counts = write_demo_care(db_session, seed=7, now=NOW)
    facts = db_session.execute(text("""
        SELECT (SELECT sum(residents) FROM building) AS residents,
               (SELECT count(*) FROM care_entry WHERE NOT synthetic) AS real_entries,
               (SELECT count(*) FROM care_entry e WHERE NOT EXISTS (
                  SELECT 1 FROM care_entry_reason x WHERE x.entry_id = e.id)) AS no_reason,
               (SELECT count(*) FROM care_entry WHERE last_visit_at < :now - interval '45 days')
                 AS overdue,
               (SELECT count(*) FROM care_visit WHERE visited_at > :now) AS future_visits,
               (SELECT count(*) FROM care_entry e WHERE last_visit_at IS DISTINCT FROM
                  (SELECT max(visited_at) FROM care_visit v WHERE v.entry_id = e.id))
                 AS stale_last_visit,
               (SELECT count(*) FROM grid_member WHERE role = 'grid_worker') AS worked_grids,
               (SELECT count(*) FROM care_zero_report WHERE month = date '2026-10-01')
                 AS reported_october,
               (SELECT count(*) FROM care_zero_report WHERE submitted_at > :now) AS future
        """), {"now": NOW}).mappings().one()
    share = counts["care_entry"] / facts["residents"]
    assert 0.01 <= share <= 0.03, share
    assert facts["real_entries"] == 0 and facts["no_reason"] == 0
    assert 0 < facts["overdue"] < counts["care_entry"] * 0.1
    assert facts["future_visits"] == 0 and facts["stale_last_visit"] == 0
    assert 0.9 * facts["worked_grids"] < facts["reported_october"] < facts["worked_grids"]
    assert facts["future"] == 0
