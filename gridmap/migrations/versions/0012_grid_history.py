"""Grid boundaries keep their history (issue 9): reshaping a grid on the map keeps the boundary
it had, from when to when, in ``grid_history``; ``grid.valid_from`` says since when the current
one holds. Cases keep the grid code they were filed in (the grid is the same, reshaped).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPS = ("add", "move", "update", "retire")


def _ops(values: tuple[str, ...]) -> str:
    return "op IN (" + ", ".join(f"'{o}'" for o in values) + ")"


def upgrade() -> None:
    op.add_column("grid", sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False,
                                    server_default=sa.text("now()")))
    op.create_table(
        "grid_history",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_id", sa.BigInteger,
                  sa.ForeignKey("data_change.id", ondelete="SET NULL")),
    )
    op.create_index("ix_grid_history_code", "grid_history", ["code", sa.text("valid_to DESC")])
    op.create_index("ix_grid_history_geom", "grid_history", ["geom"], postgresql_using="gist")
    op.drop_constraint("ck_data_change_op", "data_change")
    op.create_check_constraint("ck_data_change_op", "data_change", _ops((*OPS, "reshape")))


def downgrade() -> None:
    op.execute("DELETE FROM data_change WHERE op = 'reshape'")
    op.drop_constraint("ck_data_change_op", "data_change")
    op.create_check_constraint("ck_data_change_op", "data_change", _ops(OPS))
    op.drop_table("grid_history")
    op.drop_column("grid", "valid_from")
