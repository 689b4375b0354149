"""Retry protection for care visits (issue 13 item 1): ``care_visit.client_token``; an index
for the scorecards' visits.

A phone on a poor connection re-sends a visit it already saved; the page sends the same random
token with every try of one visit, and the unique token makes the second try find the first
visit (and its case) instead of recording another — as case intake does with
``case.client_token`` (migration 0003). Visits logged before this have no token (NULL: unique
constraints ignore NULLs).

Also ``ix_care_visit_visited_at``: the scorecards' visits done read one range of visit times
(two months) for the whole city; without it that is a scan of every visit ever logged.

Revision ID: 0023
Revises: 0020 (for now: migrations 0021/0022 are on other branches; the lead renumbers at merge)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0020"  # the lead renumbers at merge (0021/0022 are on other branches)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("care_visit", sa.Column("client_token", sa.String(64)))
    op.create_unique_constraint("uq_care_visit_client_token", "care_visit", ["client_token"])
    op.create_index("ix_care_visit_visited_at", "care_visit", ["visited_at", "entry_id"])


def downgrade() -> None:
    op.drop_index("ix_care_visit_visited_at", table_name="care_visit")
    op.drop_constraint("uq_care_visit_client_token", "care_visit", type_="unique")
    op.drop_column("care_visit", "client_token")
