"""A job watched by a role may be limited to watchers over one area (issue 13).

A coverage report is about one district, sub-district or community: the planners of that area
follow it, a planner of another district must not learn that it exists, which area it covers or
who made it. ``job.watch_area`` holds the area; NULL keeps a job watched by its roles city-wide
(a coverage compute is city-wide by nature).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job", sa.Column("watch_area", sa.String(12), nullable=True))
    # Reports started before this revision carry their area in their parameters.
    op.execute("UPDATE job SET watch_area = params->>'area' "
               "WHERE kind = 'reports.coverage' AND params ? 'area'")


def downgrade() -> None:
    op.drop_column("job", "watch_area")
