"""Imports (issue 9): a record of every import, and grid rules checked at commit.

``data_import`` records each import of a city's own data: layer, file, its source and licence
as the data officer states them, the CRS read, the mode, who, when, and what changed (added,
changed, removed, unchanged) with the report's summary, and the field mapping used (the import
page proposes it again for the next file from the same source). (The demo load keeps its own record in
``dataset``.)

The grid rules (inside its community, no overlap with a neighbour) were checked row by row as
each grid was written, so reshaping two neighbouring grids in one transaction failed half-way
when the first moved into the second's old place. They are now a constraint trigger deferred
to commit: the final state is checked, every grid that changed, and the import's own report
has named any real problem before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

CHECK_AT_COMMIT = """
CREATE OR REPLACE FUNCTION grid_check_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parent geometry;
  outside double precision;
  clash text;
BEGIN
  -- Checked at commit: a version of the row that a later statement replaced is not checked
  -- (the later version's own event is); the row as it now stands is.
  IF NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = NEW.code
                  AND g.community_code = NEW.community_code
                  AND ST_AsEWKB(g.geom) = ST_AsEWKB(NEW.geom)) THEN
    RETURN NULL;
  END IF;
  IF NOT ST_IsValid(NEW.geom) OR ST_IsEmpty(NEW.geom) THEN
    RETURN NEW;  -- the grid_geom_valid check constraint reports it
  END IF;
  SELECT geom INTO parent FROM community WHERE code = NEW.community_code;
  IF parent IS NULL THEN
    RETURN NEW;  -- the foreign key reports the missing community
  END IF;
  IF NOT ST_CoveredBy(NEW.geom, parent)
     AND NOT ST_CoveredBy(NEW.geom, ST_Buffer(parent, 1e-5)) THEN
    outside := ST_Area(ST_Difference(NEW.geom, parent)::geography);
    RAISE EXCEPTION USING ERRCODE = '23514', CONSTRAINT = 'grid_inside_community',
      MESSAGE = format('grid %s lies %s m² outside its community %s',
                       NEW.code, round(outside::numeric, 1), NEW.community_code);
  END IF;
  SELECT o.code INTO clash FROM grid o
   WHERE o.community_code = NEW.community_code AND o.code <> NEW.code
     AND o.geom && NEW.geom
     AND ST_Relate(o.geom, NEW.geom, '2********')
     AND ST_Area(ST_Intersection(o.geom, NEW.geom)::geography) > 1.0
   LIMIT 1;
  IF clash IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', CONSTRAINT = 'grid_no_overlap',
      MESSAGE = format('grid %s overlaps grid %s', NEW.code, clash);
  END IF;
  RETURN NEW;
END $$;
"""
CHECK_PER_ROW = """
CREATE OR REPLACE FUNCTION grid_check_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parent geometry;
  outside double precision;
  clash text;
BEGIN
  IF NOT ST_IsValid(NEW.geom) OR ST_IsEmpty(NEW.geom) THEN
    RETURN NEW;  -- the grid_geom_valid check constraint reports it
  END IF;
  SELECT geom INTO parent FROM community WHERE code = NEW.community_code;
  IF parent IS NULL THEN
    RETURN NEW;  -- the foreign key reports the missing community
  END IF;
  IF NOT ST_CoveredBy(NEW.geom, parent)
     AND NOT ST_CoveredBy(NEW.geom, ST_Buffer(parent, 1e-5)) THEN
    outside := ST_Area(ST_Difference(NEW.geom, parent)::geography);
    RAISE EXCEPTION USING ERRCODE = '23514', CONSTRAINT = 'grid_inside_community',
      MESSAGE = format('grid %s lies %s m² outside its community %s',
                       NEW.code, round(outside::numeric, 1), NEW.community_code);
  END IF;
  SELECT o.code INTO clash FROM grid o
   WHERE o.community_code = NEW.community_code AND o.code <> NEW.code
     AND o.geom && NEW.geom
     AND ST_Relate(o.geom, NEW.geom, '2********')
     AND ST_Area(ST_Intersection(o.geom, NEW.geom)::geography) > 1.0
   LIMIT 1;
  IF clash IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', CONSTRAINT = 'grid_no_overlap',
      MESSAGE = format('grid %s overlaps grid %s', NEW.code, clash);
  END IF;
  RETURN NEW;
END $$;
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_import",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("layer", sa.String(24), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("licence", sa.Text, nullable=False, server_default=""),
        sa.Column("crs", sa.Text, nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("scope", sa.Text, nullable=False, server_default=""),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("account_id", sa.BigInteger,
                  sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.Column("mapping", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("counts", postgresql.JSONB, nullable=False),
        sa.Column("problems", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint("mode IN ('upsert', 'replace')", name="ck_data_import_mode"),
    )
    op.create_index("ix_data_import_layer_time", "data_import",
                    ["layer", sa.text("imported_at DESC")])
    op.execute("DROP TRIGGER grid_rules ON grid")
    op.execute(CHECK_AT_COMMIT)
    op.execute("""
        CREATE CONSTRAINT TRIGGER grid_rules AFTER INSERT OR UPDATE OF geom, community_code
          ON grid DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW EXECUTE FUNCTION grid_check_rules()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER grid_rules ON grid")
    op.execute(CHECK_PER_ROW)
    op.execute("""
        CREATE TRIGGER grid_rules BEFORE INSERT OR UPDATE OF geom, community_code ON grid
          FOR EACH ROW EXECUTE FUNCTION grid_check_rules()""")
    op.drop_table("data_import")
