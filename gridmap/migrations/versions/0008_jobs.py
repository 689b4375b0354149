"""Background jobs (issue 11): procrastinate's queue and gridmap's own ``job`` table.

The queue (tables, types, functions and triggers named ``procrastinate_*``) is the schema that
the installed procrastinate ships (``procrastinate.schema.SchemaManager.get_schema()``), applied
as it stands. pyproject pins procrastinate to the 3.10 series; the schema it ships here is at
its migration ``PROCRASTINATE_AT``. When procrastinate is upgraded past it, a new gridmap
migration must apply procrastinate's own migration files between the two
(``procrastinate/sql/migrations/``); ``tests/unit/test_job_queue_schema.py`` fails until then.

``job`` is what people see: the kind, who started it, its parameters, progress (a fraction and
a line of text), result or error, and a cancel flag. The queue only carries ``job.id`` to a
worker. At most one job per ``dedupe_key`` is waiting or running (so two planners pressing
"compute all" watch the same job). ``watchers`` lists the roles that may watch a job besides
its owner (empty: the owner and administrators only).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PROCRASTINATE_AT = "03.04.00_50_post_add_retry_failed_job_procedure"
"""procrastinate's newest migration that the schema applied here includes (3.10.0)."""

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
_NOW = sa.text("now()")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    # The whole file at once, as procrastinate applies it (no bind parameters: psycopg sends
    # it as one simple query, with its dollar-quoted function bodies untouched).
    raw = op.get_bind().connection.driver_connection
    assert raw is not None
    raw.execute(SchemaManager.get_schema())
    op.create_table(
        "job",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("params", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("owner_id", sa.BigInteger, sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("owner_name", sa.String(64), nullable=False),
        sa.Column("watchers", postgresql.ARRAY(sa.String(24)), nullable=False,
                  server_default="{}"),
        sa.Column("request_id", sa.String(64)),
        sa.Column("queue_job_id", sa.BigInteger),
        sa.Column("state", sa.String(12), nullable=False, server_default="queued"),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("progress_text", sa.Text, nullable=False, server_default=""),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("result", postgresql.JSONB),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(_in("state", STATES), name="ck_job_state"),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="ck_job_progress"),
    )
    op.create_index("ux_job_active_dedupe_key", "job", ["dedupe_key"], unique=True,
                    postgresql_where=sa.text(_in("state", ACTIVE)))
    op.create_index("ix_job_active", "job", ["state", "heartbeat_at"],
                    postgresql_where=sa.text(_in("state", ACTIVE)))
    op.create_index("ix_job_kind_created", "job", ["kind", sa.text("created_at DESC")])
    op.create_index("ix_job_owner_created", "job", ["owner_id", sa.text("created_at DESC")])


def downgrade() -> None:
    op.drop_table("job")
    # procrastinate ships no downgrade: drop every object of its schema by name.
    op.execute("""
        DO $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT tablename FROM pg_tables
                   WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
          LOOP EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename); END LOOP;
          FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
                   JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
          LOOP EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.fn); END LOOP;
          FOR r IN SELECT t.typname FROM pg_type t
                   JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                     AND t.typtype IN ('e', 'c')
          LOOP EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname); END LOOP;
        END $$""")
