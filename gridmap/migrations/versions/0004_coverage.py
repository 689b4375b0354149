"""Coverage (life circles): rules as data, computed runs, per-building and per-area results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# GB 50180-2018 life circles: walking distance in metres (the standard gives 800–1,000 m for
# 15 minutes, 500 m for 10 and 300 m for 5) at an elderly walking speed (0.8–1.0 m/s).
CIRCLES = [("5min", "5分钟生活圈", "5-minute circle", 300.0, 5),
           ("10min", "10分钟生活圈", "10-minute circle", 500.0, 10),
           ("15min", "15分钟生活圈", "15-minute circle", 1000.0, 15)]
# Which facility types each circle must hold (GB 50180-2018 appendix B, as they map to ours;
# local rules may add rows).
REQUIRED = [("5min", "pocket_park"), ("5min", "elder_care_station"),
            ("10min", "party_service_station"), ("10min", "health_station"),
            ("10min", "charity_canteen"), ("10min", "mediation_point"),
            ("15min", "home_care_centre"), ("15min", "day_care_centre"),
            ("15min", "community_school"), ("15min", "employment_service"),
            ("15min", "elder_care_station")]


def upgrade() -> None:
    circle = op.create_table(
        "life_circle",
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("max_distance_m", sa.Float, sa.CheckConstraint("max_distance_m > 0"),
                  nullable=False),
        sa.Column("walk_minutes", sa.Integer, nullable=False),
    )
    op.bulk_insert(circle, [{"code": c, "name_zh": zh, "name_en": en, "max_distance_m": d,
                             "walk_minutes": m} for c, zh, en, d, m in CIRCLES])
    rule = op.create_table(
        "coverage_rule",
        sa.Column("facility_type", sa.String(40), sa.ForeignKey("facility_type.code"),
                  primary_key=True),
        sa.Column("circle", sa.String(10), sa.ForeignKey("life_circle.code"), primary_key=True),
        sa.Column("max_distance_m", sa.Float, sa.CheckConstraint("max_distance_m > 0"),
                  nullable=False),
        sa.Column("walk_speed_mps", sa.Float, sa.CheckConstraint("walk_speed_mps > 0"),
                  nullable=False, server_default="0.9"),
        sa.Column("required", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.Text, nullable=False, server_default="GB 50180-2018"),
    )
    required = set(REQUIRED)
    op.bulk_insert(rule, [
        {"facility_type": t, "circle": c, "max_distance_m": d, "walk_speed_mps": 0.9,
         "required": (c, t) in required, "source": "GB 50180-2018"}
        for t in ("party_service_station", "elder_care_station", "home_care_centre",
                  "day_care_centre", "pocket_park", "mediation_point", "charity_canteen",
                  "health_station", "community_school", "employment_service")
        for c, _, _, d, _ in CIRCLES
    ])
    op.create_table(
        "coverage_run",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("facility_type", sa.String(40), sa.ForeignKey("facility_type.code"),
                  nullable=False),
        sa.Column("circle", sa.String(10), sa.ForeignKey("life_circle.code"), nullable=False),
        sa.Column("max_distance_m", sa.Float, nullable=False),
        sa.Column("params", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("uq_coverage_run_current", "coverage_run", ["facility_type", "circle"],
                    unique=True, postgresql_where=sa.text("current"))
    op.create_table(
        "coverage_building",
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("coverage_run.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("distance_m", sa.Float),  # NULL: no facility reachable
        sa.Column("facility_id", sa.BigInteger, sa.ForeignKey("facility.id", ondelete="SET NULL")),
        sa.Column("covered", sa.Boolean, nullable=False),
    )
    op.create_table(
        "coverage_area",
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("coverage_run.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("level", sa.String(12), primary_key=True),
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("buildings", sa.Integer, nullable=False),
        sa.Column("buildings_covered", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("residents_covered", sa.Integer, nullable=False),
        sa.Column("elderly", sa.Integer, nullable=False),
        sa.Column("elderly_covered", sa.Integer, nullable=False),
        sa.CheckConstraint("level IN ('grid', 'community', 'subdistrict', 'district')",
                           name="coverage_area_level"),
    )


def downgrade() -> None:
    for table in ("coverage_area", "coverage_building", "coverage_run", "coverage_rule",
                  "life_circle"):
        op.drop_table(table)
