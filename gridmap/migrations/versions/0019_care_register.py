"""Residents in need of care (未呼先应, issue 13 item 1): the register, visit rules, visits and the
monthly zero reports.

- ``care_reason``: why a resident is on the register (living alone, empty-nest, 80+, disabled,
  低保, left-behind child), reference data with the names shown to people.
- ``care_rule``: visit rules as data: a set of reasons and the longest time between visits for
  an entry that has all of them; an entry's interval is the shortest of the rules whose reasons
  it has (living alone and 80+: 7 days; empty-nest: 30).
- ``care_entry`` (+ ``care_entry_reason``, the entry's set of reasons): one resident, tied to a
  building (and unit/household where known); the grid is the building's, so an entry follows
  its building when grids are reshaped. ``last_visit_at`` is kept by a trigger on
  ``care_visit`` so the overdue overview needs no scan of the visits.
- ``care_visit``: who visited whom when, where the phone was (``geom``) and how far that was
  from the building, what was found; ``needs_help`` visits name the case they opened.
- ``care_zero_report`` (+ ``care_explanation``): a grid's monthly report ("no new difficulty
  found" is an explicit answer) and the reasons given for entries not visited in a month.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

REASONS = (
    ("living_alone", "独居老人", "elderly living alone", 1),
    ("empty_nest", "空巢老人", "empty-nest elderly", 2),
    ("aged_80_plus", "80岁以上高龄老人", "aged 80 or over", 3),
    ("disabled", "残疾人", "disabled", 4),
    ("low_income", "低保对象", "low-income (dibao)", 5),
    ("left_behind_child", "留守儿童", "child left behind", 6),
)
RULES = (  # reasons, days between visits
    (("living_alone", "aged_80_plus"), 7),
    (("living_alone",), 14),
    (("aged_80_plus",), 14),
    (("disabled",), 14),
    (("left_behind_child",), 14),
    (("empty_nest",), 30),
    (("low_income",), 30),
)

_LAST_VISIT = """
CREATE FUNCTION care_visit_last() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE care_entry e SET last_visit_at = v.at
  FROM (SELECT entry_id, max(visited_at) AS at FROM new_rows GROUP BY entry_id) v
  WHERE e.id = v.entry_id AND (e.last_visit_at IS NULL OR e.last_visit_at < v.at);
  RETURN NULL;
END $$;
CREATE TRIGGER care_visit_last AFTER INSERT ON care_visit REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION care_visit_last();
"""


def _reference() -> None:
    op.create_table(
        "care_reason",
        sa.Column("code", sa.String(24), primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "care_rule",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("reasons", postgresql.ARRAY(sa.String(24)), nullable=False, unique=True),
        sa.Column("interval_days", sa.Integer, nullable=False),
        sa.CheckConstraint("cardinality(reasons) > 0", name="ck_care_rule_reasons"),
        sa.CheckConstraint("interval_days BETWEEN 1 AND 92", name="ck_care_rule_interval"),
    )
    reason = sa.table("care_reason", sa.column("code"), sa.column("name_zh"),
                      sa.column("name_en"), sa.column("sort"))
    op.bulk_insert(reason, [{"code": c, "name_zh": z, "name_en": e, "sort": s}
                            for c, z, e, s in REASONS])
    rule = sa.table("care_rule", sa.column("reasons", postgresql.ARRAY(sa.String)),
                    sa.column("interval_days"))
    op.bulk_insert(rule, [{"reasons": sorted(r), "interval_days": d} for r, d in RULES])


def _register() -> None:
    op.create_table(
        "care_entry",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False, server_default=""),
        sa.Column("household", sa.String(20), nullable=False, server_default=""),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("carer", sa.String(100), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("last_visit_at", sa.DateTime(timezone=True)),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_care_entry_name"),
        sa.CheckConstraint("active = (closed_at IS NULL)", name="ck_care_entry_closed"),
        sa.CheckConstraint("active OR length(btrim(closed_reason)) > 0",
                           name="ck_care_entry_closed_reason"),
        sa.CheckConstraint("length(note) <= 2000", name="ck_care_entry_note"),
    )
    op.create_index("ix_care_entry_building", "care_entry", ["building_id"],
                    postgresql_where=sa.text("active"))
    op.create_table(
        "care_entry_reason",
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("care_entry.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("reason", sa.String(24), sa.ForeignKey("care_reason.code"), primary_key=True),
    )


def _visits() -> None:
    op.create_table(
        "care_visit",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("care_entry.id"), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326)),
        sa.Column("distance_m", sa.Float),
        sa.Column("far", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("findings", sa.Text, nullable=False, server_default=""),
        sa.Column("needs_help", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id"), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("needs_help = (case_id IS NOT NULL) OR synthetic",
                           name="ck_care_visit_case"),
        sa.CheckConstraint("(geom IS NULL) = (distance_m IS NULL)", name="ck_care_visit_place"),
        sa.CheckConstraint("length(findings) <= 2000", name="ck_care_visit_findings"),
    )
    op.create_index("ix_care_visit_entry_at", "care_visit",
                    ["entry_id", sa.text("visited_at DESC")])
    op.execute(_LAST_VISIT)


def _reports() -> None:
    op.create_table(
        "care_zero_report",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # No foreign key: a report outlives a grid merged away, as a case does (0013).
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("no_new_difficulty", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("submitted_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("grid_code", "month", name="uq_care_zero_report_grid_month"),
        sa.CheckConstraint("extract(day FROM month) = 1", name="ck_care_zero_report_month"),
        sa.CheckConstraint("no_new_difficulty OR length(btrim(note)) > 0",
                           name="ck_care_zero_report_note"),
    )
    op.create_index("ix_care_zero_report_month", "care_zero_report", ["month", "grid_code"])
    op.create_table(
        "care_explanation",
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("care_entry.id"), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("explained_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("explained_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("extract(day FROM month) = 1", name="ck_care_explanation_month"),
        sa.CheckConstraint("length(btrim(reason)) BETWEEN 1 AND 500",
                           name="ck_care_explanation_reason"),
    )


def upgrade() -> None:
    _reference()
    _register()
    _visits()
    _reports()


def downgrade() -> None:
    op.drop_table("care_explanation")
    op.drop_table("care_zero_report")
    op.execute("DROP TRIGGER IF EXISTS care_visit_last ON care_visit")
    op.drop_table("care_visit")
    op.execute("DROP FUNCTION IF EXISTS care_visit_last()")
    op.drop_table("care_entry_reason")
    op.drop_table("care_entry")
    op.drop_table("care_rule")
    op.drop_table("care_reason")
