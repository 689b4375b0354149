"""Territory layers have data versions too (issue 10): ETags of the map's layers.

Migration 0010 counts the changes to streets, buildings and facilities (for coverage). The
layer endpoints (``/api/layers/<layer>.geojson``) answer ``If-None-Match`` with a 304 while
nothing they are read from has changed, so the areas they draw need counts of their own:
districts, sub-districts, communities, grids, and the facility types (a layer shows a type's
name and colour). The same statement triggers and ``data_version_bump`` as 0010.

Revision ID: 0015
Revises: 0013 (0014, the tiles' migration, lands beside it: whichever merges second chains on)
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

# (table, data_version layer)
WATCHED = (("district", "districts"), ("subdistrict", "subdistricts"),
           ("community", "communities"), ("grid", "grids"), ("facility_type", "facility_types"))
EVENTS = (("INSERT", "NEW TABLE AS rows"), ("UPDATE", "NEW TABLE AS rows"),
          ("DELETE", "OLD TABLE AS rows"))


def _name(table: str, event: str) -> str:
    return f"data_version_{table}_{event.lower()}"


def upgrade() -> None:
    for table, layer in WATCHED:
        for event, transition in EVENTS:
            name = _name(table, event)
            op.execute(f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM rows) THEN
    PERFORM data_version_bump('{layer}', ARRAY['']);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {event} ON {table}
  REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}();""")
    # The layers as they are now: version 1, so a first ETag exists before any change.
    op.execute("INSERT INTO data_version (layer, key, version) VALUES "
               + ", ".join(f"('{layer}', '', 1)" for _, layer in WATCHED)
               + " ON CONFLICT (layer, key) DO NOTHING")


def downgrade() -> None:
    for table, _ in WATCHED:
        for event, _ in EVENTS:
            name = _name(table, event)
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.execute("DELETE FROM data_version WHERE layer IN ("
               + ", ".join(f"'{layer}'" for _, layer in WATCHED) + ")")
