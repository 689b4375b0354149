"""Editing on the map (issue 9): every change a data officer makes is recorded.

``data_change`` holds who changed what, when, and the feature before and after (its fields and
position as JSON): a facility added, moved, updated or retired.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPS = ("add", "move", "update", "retire")


def upgrade() -> None:
    op.create_table(
        "data_change",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("layer", sa.String(24), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("op", sa.String(12), nullable=False),
        sa.Column("before", postgresql.JSONB),
        sa.Column("after", postgresql.JSONB),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("account_id", sa.BigInteger,
                  sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.CheckConstraint("op IN (" + ", ".join(f"'{o}'" for o in OPS) + ")",
                           name="ck_data_change_op"),
    )
    op.create_index("ix_data_change_feature", "data_change",
                    ["layer", "code", sa.text("changed_at DESC")])


def downgrade() -> None:
    op.drop_table("data_change")
