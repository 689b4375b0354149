"""Demo mediation on a real PostGIS: points at all three levels, a few hundred disputes a year
across every step at plausible rates, each referral at the next level's point, and a history
that tells the same story as the rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.demo.services.mediation import write_demo_mediation

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)


def test_every_area_has_its_point(db_session: Session) -> None:
    missing = db_session.execute(text("""
        SELECT (SELECT count(*) FROM community c WHERE NOT EXISTS (SELECT 1 FROM mediation_point p
                  WHERE p.area_code = c.code AND p.level = 'community')),
               (SELECT count(*) FROM subdistrict s WHERE NOT EXISTS (SELECT 1 FROM mediation_point p
                  WHERE p.area_code = s.code AND p.level = 'subdistrict')),
               (SELECT count(*) FROM mediation_point p JOIN facility f ON f.id = p.facility_id
                  WHERE f.type <> 'mediation_point'),
               (SELECT count(*) FROM mediation_point WHERE level = 'district')""")).one()
    assert tuple(missing) == (0, 0, 0, 1)  # 沈河区 alone is loaded in the test database


def test_demo_disputes_at_plausible_rates_and_consistent(db_session: Session) -> None:
    counts = write_demo_mediation(db_session, seed=7, now=NOW)
    facts = db_session.execute(text("""
        SELECT (SELECT count(*) FROM dispute WHERE referred_from IS NULL) AS received,
               (SELECT count(*) FROM community) AS communities,
               (SELECT count(*) FROM dispute WHERE NOT synthetic) AS real,
               (SELECT array_agg(DISTINCT state) FROM dispute) AS states,
               (SELECT count(*) FILTER (WHERE state = 'agreed')::float / count(*)
                  FROM dispute WHERE referred_from IS NULL AND closed_at IS NOT NULL) AS agreed_share,
               (SELECT count(*) FROM dispute d WHERE d.state = 'referred_up' AND NOT EXISTS (
                  SELECT 1 FROM dispute c JOIN mediation_point cp ON cp.facility_id = c.point_id
                  JOIN mediation_point dp ON dp.facility_id = d.point_id
                  WHERE c.referred_from = d.id AND dp.area_code LIKE cp.area_code || '%'
                    AND cp.area_code <> dp.area_code)) AS lost_referrals,
               (SELECT count(*) FROM dispute d WHERE d.state IN ('in_mediation', 'agreed')
                  AND NOT EXISTS (SELECT 1 FROM dispute_session s WHERE s.dispute_id = d.id))
                  AS unmediated,
               (SELECT count(*) FROM dispute_session s JOIN dispute d ON d.id = s.dispute_id
                  WHERE s.recorded_at < d.accepted_at OR s.recorded_at > :now) AS odd_sessions,
               (SELECT count(*) FROM dispute WHERE created_at > :now OR closed_at > :now
                  OR created_at < :now - interval '366 days') AS out_of_year,
               (SELECT count(*) FROM dispute d WHERE (SELECT count(*) FROM dispute_party p
                  WHERE p.dispute_id = d.id) < 2) AS without_parties,
               (SELECT count(*) FROM dispute d WHERE d.state IS DISTINCT FROM (
                  SELECT e.to_state FROM dispute_event e WHERE e.dispute_id = d.id
                  ORDER BY e.created_at DESC, e.id DESC LIMIT 1)) AS history_disagrees
        """), {"now": NOW}).mappings().one()
    assert 1.5 * facts["communities"] < facts["received"] < 4.5 * facts["communities"]
    assert counts["dispute"] > facts["received"]  # some went up a level
    assert facts["real"] == 0
    assert {"accepted", "in_mediation", "agreed", "referred_up",
            "referred_to_court"} <= set(facts["states"])
    assert 0.6 < facts["agreed_share"] < 0.95
    assert facts["lost_referrals"] == 0 and facts["unmediated"] == 0
    assert facts["odd_sessions"] == 0 and facts["out_of_year"] == 0
    assert facts["without_parties"] == 0 and facts["history_disagrees"] == 0
