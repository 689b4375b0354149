"""Supervision of overdue cases (督办, issue 13 item 4): rules, notices, inbox, outbox.

- ``supervision_rule``: escalation rules as data. A case still not answered (``respond``) or not
  resolved (``resolve``) ``after_hours`` past that deadline, and supervised at ``from_level``
  (``grid`` when it never was), is raised to ``to_level`` (grid → community → sub-district →
  district command centre). Seeded with the chain the seed reports describe; an administrator
  may change hours or deactivate a rule.
- ``supervision_notice``: one per case and rule (unique), so the job that applies the rules may
  run any number of times and notifies once; ``recipients`` are the person ids told.
- ``inbox_item``: a person's in-app inbox (supervision, dispatch, whistle, return), with
  ``read_at``; ``dedupe_key`` (unique) keeps a retried writer from filing the same item twice.
- ``notification_outbox``: what the sender job delivers (channel, recipient, payload), with
  attempts, backoff (``next_attempt_at``), ``sent_at`` and ``last_error``; ``dedupe_key``
  (unique) means the same notice is never queued twice.
- ``account.email``: where the e-mail channel reaches an account (optional).
- An inbox item and a notice go with their case or person (ON DELETE CASCADE): cases and
  people are deleted only by clean-ups (tests, a removed account's own person), never by the
  app, and a notice of a case that is gone tells nobody anything.
- ``case_event.actor_id`` becomes nullable: a supervision event is the system's, not a person's.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LEVELS = ("grid", "community", "subdistrict", "district")
DEADLINES = ("respond", "resolve")
INBOX_KINDS = ("supervision", "dispatch", "whistle", "return")
CHANNELS = ("log", "email")

# (code, deadline, after_hours, from_level, to_level, sort_order)
SEED_RULES = (
    ("respond_community", "respond", 0, "grid", "community", 10),
    ("resolve_community", "resolve", 0, "grid", "community", 20),
    ("resolve_subdistrict", "resolve", 24, "community", "subdistrict", 30),
    ("resolve_district", "resolve", 72, "subdistrict", "district", 40),
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    rule = op.create_table(
        "supervision_rule",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("deadline", sa.String(10), nullable=False),
        sa.Column("after_hours", sa.Float, nullable=False),
        sa.Column("from_level", sa.String(12), nullable=False),
        sa.Column("to_level", sa.String(12), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint(_in("deadline", DEADLINES), name="ck_supervision_rule_deadline"),
        sa.CheckConstraint(_in("from_level", LEVELS), name="ck_supervision_rule_from"),
        sa.CheckConstraint(_in("to_level", LEVELS), name="ck_supervision_rule_to"),
        sa.CheckConstraint("after_hours >= 0 AND after_hours < 'Infinity'::float8",
                           name="ck_supervision_rule_hours"),
        sa.CheckConstraint("array_position(ARRAY['grid','community','subdistrict','district'], "
                           "to_level) > array_position(ARRAY['grid','community','subdistrict',"
                           "'district'], from_level)", name="ck_supervision_rule_upward"),
    )
    op.bulk_insert(rule, [
        {"code": c, "deadline": d, "after_hours": h, "from_level": f, "to_level": t,
         "sort_order": s} for c, d, h, f, t, s in SEED_RULES])
    op.create_table(
        "supervision_notice",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("rule_id", sa.BigInteger, sa.ForeignKey("supervision_rule.id"), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("deadline", sa.String(10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.BigInteger), nullable=False,
                  server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.UniqueConstraint("case_id", "rule_id", name="uq_supervision_notice_case_rule"),
        sa.CheckConstraint(_in("level", LEVELS), name="ck_supervision_notice_level"),
    )
    op.create_index("ix_supervision_notice_created", "supervision_notice", ["created_at"])
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id", ondelete="CASCADE")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("dedupe_key", sa.String(80), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(_in("kind", INBOX_KINDS), name="ck_inbox_item_kind"),
    )
    op.create_index("ix_inbox_item_person", "inbox_item", ["person_id", "created_at"])
    op.create_index("ix_inbox_item_unread", "inbox_item", ["person_id"],
                    postgresql_where=sa.text("read_at IS NULL"))
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=False, unique=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint(_in("channel", CHANNELS), name="ck_notification_outbox_channel"),
    )
    op.create_index("ix_notification_outbox_due", "notification_outbox", ["next_attempt_at"],
                    postgresql_where=sa.text("sent_at IS NULL"))
    op.alter_column("case_event", "actor_id", nullable=True)
    op.add_column("account", sa.Column("email", sa.String(254)))


def downgrade() -> None:
    # Supervision events have no actor; the history is append-only, so the owner lifts the
    # trigger for this one removal.
    op.execute("ALTER TABLE case_event DISABLE TRIGGER case_event_immutable")
    op.execute("DELETE FROM case_event WHERE actor_id IS NULL")
    op.execute("ALTER TABLE case_event ENABLE TRIGGER case_event_immutable")
    op.alter_column("case_event", "actor_id", nullable=False)
    op.drop_column("account", "email")
    op.drop_table("notification_outbox")
    op.drop_table("inbox_item")
    op.drop_table("supervision_notice")
    op.drop_table("supervision_rule")
