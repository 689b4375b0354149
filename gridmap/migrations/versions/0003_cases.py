"""Cases (民呼我应): categories as data, cases, their immutable event history, co-handlers, photos.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# code, 中文, English, default departments, respond within (h), resolve within (h)
CATEGORIES = [
    ("stairwell_lighting", "楼道照明", "Stairwell lighting", ["housing"], 24, 72),
    ("heating", "供暖", "Heating", ["heating"], 4, 48),
    ("water_supply", "供水", "Water supply", ["water"], 4, 24),
    ("gas", "燃气", "Gas", ["gas"], 1, 12),
    ("power_supply", "供电", "Power supply", ["power"], 2, 24),
    ("property_management", "物业", "Property management", ["housing"], 24, 120),
    ("cityscape", "市容环境", "Cityscape & sanitation", ["urban_management"], 24, 72),
    ("illegal_construction", "违章搭建", "Illegal construction", ["urban_management"], 24, 240),
    ("neighbour_dispute", "邻里纠纷", "Neighbour dispute", [], 24, 168),
    ("elderly_support", "养老帮扶", "Elderly support", ["civil_affairs"], 24, 72),
    ("hardship_relief", "困难救助", "Hardship relief", ["civil_affairs", "human_resources"], 24, 120),
    ("safety_hazard", "安全隐患", "Safety hazard", ["emergency", "fire"], 2, 48),
    ("public_order", "治安", "Public order", ["police"], 1, 24),
    ("environment_pollution", "生态环境", "Pollution", ["environment"], 24, 120),
    ("market_order", "市场监管", "Market & food safety", ["market_regulation"], 24, 120),
]

STATES = ("reported", "dispatched", "in_progress", "resolved", "verified", "rated", "closed",
          "returned", "suspended", "cancelled")
UNRESOLVED = ("reported", "dispatched", "in_progress", "returned", "suspended")
CHANNELS = ("grid_patrol", "hotline_12345", "walk_in", "resident", "proactive_visit")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    category = op.create_table(
        "case_category",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("default_departments", pg.ARRAY(sa.String(40)), nullable=False,
                  server_default="{}"),
        sa.Column("respond_hours", sa.Float, sa.CheckConstraint("respond_hours > 0"),
                  nullable=False),
        sa.Column("resolve_hours", sa.Float, sa.CheckConstraint("resolve_hours > 0"),
                  nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.bulk_insert(category, [
        {"code": c, "name_zh": zh, "name_en": en, "default_departments": deps,
         "respond_hours": rh, "resolve_hours": sh, "sort_order": i}
        for i, (c, zh, en, deps, rh, sh) in enumerate(CATEGORIES)
    ])
    op.create_table(
        "case",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("category", sa.String(40), sa.ForeignKey("case_category.code"), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("input_crs", sa.String(10), nullable=False, server_default="wgs84"),
        sa.Column("grid_code", sa.String(15), sa.ForeignKey("grid.code"), nullable=False),
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column("subdistrict_code", sa.String(9), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("building_code", sa.String(24)),
        sa.Column("reporter_name", sa.Text, nullable=False, server_default=""),
        sa.Column("reporter_phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="reported"),
        sa.Column("owner_kind", sa.String(10)),
        sa.Column("owner_department", sa.String(40), sa.ForeignKey("department.code")),
        sa.Column("owner_person_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("suspended_from", sa.String(20)),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rating", sa.String(24)),
        sa.Column("duplicate_of", sa.BigInteger, sa.ForeignKey("case.id")),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("client_token", sa.String(64), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolve_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("char_length(description) BETWEEN 1 AND 4000",
                           name="case_description_length"),
        sa.CheckConstraint(f"state IN {_in(STATES)}", name="case_state"),
        sa.CheckConstraint(f"channel IN {_in(CHANNELS)}", name="case_channel"),
        sa.CheckConstraint(f"rating IS NULL OR rating IN {_in(RATINGS)}", name="case_rating"),
        sa.CheckConstraint("owner_kind IS NULL OR owner_kind IN ('grid', 'department')",
                           name="case_owner_kind"),
        sa.CheckConstraint("(owner_kind = 'department') = (owner_department IS NOT NULL)",
                           name="case_owner_department"),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="case_geom_valid"),
        sa.CheckConstraint("left(grid_code, 12) = community_code AND left(grid_code, 9) = "
                           "subdistrict_code AND left(grid_code, 6) = district_code",
                           name="case_codes_consistent"),
    )
    op.create_index("ix_case_geom", "case", ["geom"], postgresql_using="gist")
    # Keyset pagination of the board: newest first, and open cases by deadline (overdue first).
    op.create_index("ix_case_created", "case", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index("ix_case_open_deadline", "case", ["resolve_by", "id"],
                    postgresql_where=sa.text(f"state IN {_in(UNRESOLVED)}"))
    for column in ("grid_code", "community_code", "subdistrict_code", "district_code",
                   "owner_department", "category", "state"):
        op.create_index(f"ix_case_{column}", "case",
                        [column, sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("payload", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_case_event_case", "case_event", ["case_id", "id"])
    # The history is append-only: no statement may change or remove an event. (TRUNCATE, an
    # administrator's wholesale reset such as reloading the demo, stays possible.)
    op.execute(sa.text("""
        CREATE FUNCTION case_event_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION USING ERRCODE = '55000',
            MESSAGE = 'case events are immutable (案件记录不可修改)';
        END $$;
        CREATE TRIGGER case_event_immutable BEFORE UPDATE OR DELETE ON case_event
          FOR EACH ROW EXECUTE FUNCTION case_event_immutable();
    """))
    op.create_table(
        "case_cohandler",
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id"), primary_key=True),
        sa.Column("department_code", sa.String(40), sa.ForeignKey("department.code"),
                  primary_key=True),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "case_photo",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("thumb_path", sa.Text, nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('report', 'after')", name="case_photo_kind"),
    )
    op.create_index("ix_case_photo_case", "case_photo", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_photo")
    op.drop_table("case_cohandler")
    op.execute("DROP TRIGGER case_event_immutable ON case_event")
    op.drop_table("case_event")
    op.execute("DROP FUNCTION case_event_immutable()")
    op.drop_table("case")
    op.drop_table("case_category")
