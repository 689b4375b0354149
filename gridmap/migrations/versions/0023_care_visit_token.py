"""Care visits (issue 13 item 1): retry protection (``care_visit.client_token``) and the months
an entry was visited in (``care_entry.visit_months``).

- ``client_token``: a phone on a poor connection re-sends a visit it already saved; the page
  sends the same random token with every try of one visit, and the unique token makes the
  second try find the first visit (and its case) instead of recording another — as case intake
  does with ``case.client_token`` (migration 0003). Visits logged before this have no token
  (NULL: unique constraints ignore NULLs).
- ``visit_months``: the city-time months (first days) in which the entry has a visit, kept by
  the trigger that already keeps ``last_visit_at`` (visits are never updated or deleted by the
  app). The zero-report overview and the scorecards' "visits done" ask "visited in month M?"
  of every entry of the city; an array on the entry answers that without reading the visits
  (the scorecards' city-wide grid level spent most of its time aggregating two months of
  visits). Filled here from the visits there are.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Months in the city's time: UTC+8 all year (no daylight saving), as gridmap.care.rules.CITY_TZ.
_MONTH_OF = "CAST(date_trunc('month', {at} AT TIME ZONE 'UTC' + interval '8 hours') AS date)"

_TRIGGER = f"""
CREATE OR REPLACE FUNCTION care_visit_last() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE care_entry e
  SET last_visit_at = greatest(e.last_visit_at, v.at),
      visit_months = ARRAY(SELECT DISTINCT m FROM unnest(e.visit_months || v.months) m ORDER BY m)
  FROM (SELECT entry_id, max(visited_at) AS at,
               array_agg(DISTINCT {_MONTH_OF.format(at="visited_at")}) AS months
        FROM new_rows GROUP BY entry_id) v
  WHERE e.id = v.entry_id;
  RETURN NULL;
END $$;
"""
_TRIGGER_BEFORE = """
CREATE OR REPLACE FUNCTION care_visit_last() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE care_entry e SET last_visit_at = v.at
  FROM (SELECT entry_id, max(visited_at) AS at FROM new_rows GROUP BY entry_id) v
  WHERE e.id = v.entry_id AND (e.last_visit_at IS NULL OR e.last_visit_at < v.at);
  RETURN NULL;
END $$;
"""
_BACKFILL = f"""
UPDATE care_entry e SET visit_months = v.months
FROM (SELECT entry_id, array_agg(DISTINCT {_MONTH_OF.format(at="visited_at")}
                                 ORDER BY {_MONTH_OF.format(at="visited_at")}) AS months
      FROM care_visit GROUP BY entry_id) v
WHERE e.id = v.entry_id
"""


def upgrade() -> None:
    op.add_column("care_visit", sa.Column("client_token", sa.String(64)))
    op.create_unique_constraint("uq_care_visit_client_token", "care_visit", ["client_token"])
    op.add_column("care_entry", sa.Column("visit_months", postgresql.ARRAY(sa.Date),
                                          nullable=False, server_default="{}"))
    op.execute(_TRIGGER)
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.execute(_TRIGGER_BEFORE)
    op.drop_column("care_entry", "visit_months")
    op.drop_constraint("uq_care_visit_client_token", "care_visit", type_="unique")
    op.drop_column("care_visit", "client_token")
