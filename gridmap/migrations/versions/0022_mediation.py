"""Mediation (评理说事, issue 13 item 3): points at three levels and their dispute cases.

- ``mediation_point``: a facility of type ``mediation_point`` with its level (community →
  sub-district → district) and the area it serves (a 12-, 9- or 6-digit code, one point per
  area). The community points the territory already holds are registered here, one per
  community (the oldest when a community has several); sub-district and district points are
  facilities of the same type, placed where their office is.
- ``dispute``: one dispute at one point, in its own steps (see ``gridmap.mediation.rules``):
  ``pending`` (referred up, not yet accepted) → ``accepted`` → ``in_mediation`` →
  ``agreed`` / ``referred_up`` / ``referred_to_court``. Referring up ends the dispute at its
  point and opens a ``pending`` one at the next level's point (``referred_from``, unique).
  ``community_code`` is where the dispute arose (no foreign key, as a case's: it outlives a
  reshaped territory); ``case_id`` the case it came from (转评理说事), if any.
- ``dispute_party``: the parties (personal data: masked for all but the point's staff and the
  dispute's mediators). ``dispute_mediator``: the people working the dispute (they see its
  parties). ``dispute_session``: each session held (date, the mediators present by name,
  notes). ``dispute_event``: the history, append-only for the app role (gridmap.schema).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

LEVELS = {"community": 12, "subdistrict": 9, "district": 6}
STATES = ("pending", "accepted", "in_mediation", "agreed", "referred_up", "referred_to_court")
OUTCOMES = ("agreed", "referred_up", "referred_to_court")
KINDS = ("neighbour", "family", "property", "tenancy", "debt", "labour", "other")
ACTIONS = ("create", "accept", "session", "agree", "refer_up", "refer_court")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _points() -> None:
    width = " OR ".join(f"(level = '{lv}' AND length(area_code) = {w})"
                        for lv, w in LEVELS.items())
    op.create_table(
        "mediation_point",
        sa.Column("facility_id", sa.BigInteger,
                  sa.ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("area_code", sa.String(12), nullable=False, unique=True),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(width, name="ck_mediation_point_level"),
        sa.CheckConstraint("area_code ~ '^[0-9]+$'", name="ck_mediation_point_area"),
    )
    op.execute("""
        INSERT INTO mediation_point (facility_id, level, area_code, synthetic)
        SELECT DISTINCT ON (community_code) id, 'community', community_code, synthetic
        FROM facility WHERE type = 'mediation_point' AND community_code IS NOT NULL
        ORDER BY community_code, id""")


def _disputes() -> None:
    op.create_table(
        "dispute",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("point_id", sa.BigInteger, sa.ForeignKey("mediation_point.facility_id"),
                  nullable=False),
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id")),
        sa.Column("referred_from", sa.BigInteger, sa.ForeignKey("dispute.id"), unique=True),
        sa.Column("outcome_note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("accepted_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(_in("state", STATES), name="ck_dispute_state"),
        sa.CheckConstraint(_in("kind", KINDS), name="ck_dispute_kind"),
        sa.CheckConstraint("community_code ~ '^[0-9]{12}$'", name="ck_dispute_community"),
        sa.CheckConstraint("length(btrim(summary)) BETWEEN 1 AND 2000", name="ck_dispute_summary"),
        sa.CheckConstraint("length(outcome_note) <= 2000", name="ck_dispute_outcome_note"),
        sa.CheckConstraint(f"({_in('state', OUTCOMES)}) = (closed_at IS NOT NULL)",
                           name="ck_dispute_closed"),
        sa.CheckConstraint("(state = 'pending') = (accepted_at IS NULL)",
                           name="ck_dispute_accepted"),
    )
    op.create_index("ix_dispute_point_state", "dispute", ["point_id", "state"])
    op.create_index("ix_dispute_community", "dispute", ["community_code", "created_at"])
    op.create_index("ix_dispute_case", "dispute", ["case_id"],
                    postgresql_where=sa.text("case_id IS NOT NULL"))
    op.create_table(
        "dispute_party",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("dispute_id", sa.BigInteger, sa.ForeignKey("dispute.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("address", sa.String(200), nullable=False, server_default=""),
        sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("role IN ('applicant', 'respondent')", name="ck_dispute_party_role"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_dispute_party_name"),
    )
    op.create_index("ix_dispute_party_dispute", "dispute_party", ["dispute_id", "sort"])
    op.create_table(
        "dispute_mediator",
        sa.Column("dispute_id", sa.BigInteger, sa.ForeignKey("dispute.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_dispute_mediator_person", "dispute_mediator", ["person_id"])


def _history() -> None:
    op.create_table(
        "dispute_session",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("dispute_id", sa.BigInteger, sa.ForeignKey("dispute.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("mediators", postgresql.ARRAY(sa.String(50)), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("cardinality(mediators) BETWEEN 1 AND 10",
                           name="ck_dispute_session_mediators"),
        sa.CheckConstraint("length(note) <= 2000", name="ck_dispute_session_note"),
    )
    op.create_index("ix_dispute_session_dispute", "dispute_session", ["dispute_id", "held_on"])
    op.create_table(
        "dispute_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("dispute_id", sa.BigInteger, sa.ForeignKey("dispute.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("payload", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint(_in("action", ACTIONS), name="ck_dispute_event_action"),
    )
    op.create_index("ix_dispute_event_dispute", "dispute_event", ["dispute_id", "id"])


def upgrade() -> None:
    _points()
    _disputes()
    _history()


def downgrade() -> None:
    for table in ("dispute_event", "dispute_session", "dispute_mediator", "dispute_party",
                  "dispute", "mediation_point"):
        op.drop_table(table)
