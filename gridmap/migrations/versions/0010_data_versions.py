"""Coverage stays honest (issue 9): runs record the data they were computed on.

``data_version`` counts the changes to what coverage is computed from: the streets, the
buildings, and the facilities of each type. Statement triggers bump a count whenever a statement
changes any row (an import, an edit, a demo load). A coverage run records the counts it read
(``coverage_run.inputs``); a run whose inputs have changed since is stale, and the coverage
pages say so and offer to recompute. Runs made before this migration record nothing; they turn
stale at the first change after it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BUMP = """
CREATE FUNCTION data_version_bump(p_layer text, p_keys text[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO data_version (layer, key, version, changed_at)
  SELECT p_layer, k, 1, now() FROM unnest(p_keys) AS k
  ON CONFLICT (layer, key) DO UPDATE
    SET version = data_version.version + 1, changed_at = now();
$$;
"""
# (table, layer, the keys a statement's rows give: SQL over the transition table `rows`)
WATCHED = (("street_edge", "streets", "SELECT ''"), ("street_node", "streets", "SELECT ''"),
           ("building", "buildings", "SELECT ''"),
           ("facility", "facilities", "SELECT DISTINCT type FROM rows"))
EVENTS = (("INSERT", "NEW TABLE AS rows"), ("UPDATE", "NEW TABLE AS rows"),
          ("DELETE", "OLD TABLE AS rows"))


def _names(table: str, event: str) -> str:
    return f"data_version_{table}_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("layer", sa.String(24), primary_key=True),
        sa.Column("key", sa.String(40), primary_key=True, server_default=""),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
    )
    op.add_column("coverage_run", sa.Column("inputs", postgresql.JSONB, nullable=False,
                                            server_default="{}"))
    op.execute(BUMP)
    for table, layer, keys in WATCHED:
        for event, transition in EVENTS:
            name = _names(table, event)
            op.execute(f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM rows) THEN
    PERFORM data_version_bump('{layer}', ARRAY({keys}));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {event} ON {table}
  REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}();""")
    # An update that moves a facility to another type changes both types' coverage.
    op.execute("""
CREATE FUNCTION data_version_facility_retyped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_version_bump('facilities', ARRAY(
    SELECT DISTINCT o.type FROM old_rows o JOIN rows n ON n.id = o.id WHERE n.type <> o.type));
  RETURN NULL;
END $$;
CREATE TRIGGER data_version_facility_retyped AFTER UPDATE ON facility
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS rows
  FOR EACH STATEMENT EXECUTE FUNCTION data_version_facility_retyped();""")


def downgrade() -> None:
    op.execute("DROP TRIGGER data_version_facility_retyped ON facility")
    op.execute("DROP FUNCTION data_version_facility_retyped()")
    for table, _, _ in WATCHED:
        for event, _ in EVENTS:
            name = _names(table, event)
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP FUNCTION data_version_bump(text, text[])")
    op.drop_column("coverage_run", "inputs")
    op.drop_table("data_version")
