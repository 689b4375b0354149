"""Coverage runs record the metric CRS their distances were measured in.

Runs before this revision were all measured in EPSG:4549 (CGCS2000 3-degree Gauss-Kruger
CM 120°E, the old fixed constant), so they are backfilled with it: an old run stays explained
(its distances are about 0.1 % long in Shenyang) next to new runs in the data's own zone.
New runs must name their CRS: the column has no default once existing rows are filled.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LEGACY_SRID = 4549
"""The CRS every run before this revision was computed in."""


def upgrade() -> None:
    op.add_column("coverage_run", sa.Column("metric_srid", sa.Integer, nullable=False,
                                            server_default=str(LEGACY_SRID)))
    op.alter_column("coverage_run", "metric_srid", server_default=None)


def downgrade() -> None:
    op.drop_column("coverage_run", "metric_srid")
