"""Retry protection for care visits (issue 13 item 1): ``care_visit.client_token``.

A phone on a poor connection re-sends a visit it already saved; the page sends the same random
token with every try of one visit, and the unique token makes the second try find the first
visit (and its case) instead of recording another — as case intake does with
``case.client_token`` (migration 0003). Visits logged before this have no token (NULL: unique
constraints ignore NULLs).

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


def downgrade() -> None:
    op.drop_constraint("uq_care_visit_client_token", "care_visit", type_="unique")
    op.drop_column("care_visit", "client_token")
