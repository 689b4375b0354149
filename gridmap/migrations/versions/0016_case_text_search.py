"""Trigram indexes for the case board's text search (issue 12).

The board finds cases by words in their description or address (``ILIKE '%…%'``). Without an
index a search that matches few cases reads every case the account may see; a trigram GIN index
on each column (pg_trgm, created in 0001) lets PostgreSQL find the matching rows first. Words of
fewer than three characters have no trigram inside the pattern and still scan, like before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('CREATE INDEX ix_case_description_trgm ON "case" USING gin (description gin_trgm_ops)')
    op.execute('CREATE INDEX ix_case_address_trgm ON "case" USING gin (address gin_trgm_ops)')


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_case_address_trgm")
    op.execute("DROP INDEX IF EXISTS ix_case_description_trgm")
