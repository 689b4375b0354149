"""Search finds streets by name (issue 12): a trigram index on ``street_edge.name``.

``/api/search`` matches names with ``ILIKE '%…%'``; districts … buildings have had trigram
indexes since 0001, streets had none (a city has hundreds of thousands of edges). Unnamed edges
(``''``) are never searched, so they stay out of the index.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_street_edge_name_trgm ON street_edge "
               "USING gin (name gin_trgm_ops) WHERE name <> ''")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_street_edge_name_trgm")
