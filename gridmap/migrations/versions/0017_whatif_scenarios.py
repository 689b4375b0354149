"""Saved what-if scenarios (issue 12): a planner's what-if, kept as it was computed.

A what-if is computed on request and never stored (``coverage/services/what_if.py``); a planner
who wants to keep one, compare it with others, export or print it saves it as a scenario. The
server computes it again when saving and stores the request (rule, level, the points added and
the facilities closed, with their codes, names and places as they were) and the answer (totals,
buildings gained and lost, and every area of the level before and after), so a scenario reads
back exactly as computed even after the facilities or the coverage change. ``run_id`` and
``run_computed_at`` name the coverage run it was computed against, so a reader can tell when a
newer run exists (the run may be deleted; its time stays).

``area_code`` is the planner's area when saving (a district, or NULL for the whole city): other
planners see a scenario only if it lies inside their own area.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LEVELS = ("grid", "community", "subdistrict", "district")


def upgrade() -> None:
    op.create_table(
        "whatif_scenario",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("owner_id", sa.BigInteger, sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("owner_name", sa.String(64), nullable=False),
        sa.Column("area_code", sa.String(15)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("facility_type", sa.String(40), sa.ForeignKey("facility_type.code"),
                  nullable=False),
        sa.Column("circle", sa.String(10), sa.ForeignKey("life_circle.code"), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("run_id", sa.BigInteger,
                  sa.ForeignKey("coverage_run.id", ondelete="SET NULL")),
        sa.Column("run_computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("removed", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("result", postgresql.JSONB, nullable=False),
        sa.CheckConstraint("level IN (" + ", ".join(f"'{v}'" for v in LEVELS) + ")",
                           name="ck_whatif_scenario_level"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_whatif_scenario_name"),
    )
    op.create_index("ix_whatif_scenario_owner", "whatif_scenario", ["owner_id"])
    op.create_index("ix_whatif_scenario_area", "whatif_scenario", ["area_code", "created_at"])


def downgrade() -> None:
    op.drop_table("whatif_scenario")
