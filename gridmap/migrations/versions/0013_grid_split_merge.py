"""Grids are split and merged (issue 9); every boundary a grid had is kept, however it changed.

- A grid whose boundary changes (reshaped on the map, re-imported, split) or that goes away
  (merged into a neighbour, removed by an import) leaves its previous state in ``grid_history``
  by a trigger, so no path can forget it. ``reason`` says how it ended and ``successor`` names
  the grid a merged one went into.
- A case keeps the grid it was filed in, also after that grid has been merged away: the case's
  grid code is a fact of its filing, so ``case.grid_code`` no longer refers to ``grid`` by a
  foreign key. A new case, or a case moved to another grid, must still name a current grid
  (a trigger). ``grid_ever`` names every grid that ever was, for pages and statistics.
- ``grid_lineage(codes)`` gives the grids and those merged into them (transitively): the grid
  worker and the enrolled departments of the surviving grid work the cases of the merged one.
- ``grid_current(code)`` is the grid a code is now part of (itself, or where it was merged).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPS = ("add", "move", "update", "retire", "reshape")
REASONS = ("reshape", "split", "merge", "removed")

UPGRADE = """
CREATE FUNCTION grid_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF ST_OrderingEquals(OLD.geom, NEW.geom) AND OLD.community_code = NEW.community_code THEN
      RETURN NEW;
    END IF;
    IF NEW.valid_from IS NOT DISTINCT FROM OLD.valid_from THEN
      NEW.valid_from := now();  -- unless the statement says since when (a restore)
    END IF;
  END IF;
  -- A boundary that held for no time (changed twice in one transaction) is not history.
  IF OLD.valid_from < now() THEN
    INSERT INTO grid_history (code, name, community_code, geom, valid_from, valid_to, reason)
    VALUES (OLD.code, OLD.name, OLD.community_code, OLD.geom, OLD.valid_from, now(),
            CASE TG_OP WHEN 'UPDATE' THEN 'reshape' ELSE 'removed' END);
  END IF;
  RETURN CASE TG_OP WHEN 'UPDATE' THEN NEW ELSE OLD END;
END $$;
CREATE TRIGGER grid_history_keep BEFORE UPDATE OF geom, community_code OR DELETE ON grid
  FOR EACH ROW EXECUTE FUNCTION grid_keep_history();

CREATE FUNCTION case_grid_current() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM grid WHERE code = NEW.grid_code) THEN
    RAISE EXCEPTION USING ERRCODE = '23503', CONSTRAINT = 'case_grid_current',
      MESSAGE = format('grid %s is not a current grid', NEW.grid_code);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER case_grid_current BEFORE INSERT OR UPDATE OF grid_code ON "case"
  FOR EACH ROW EXECUTE FUNCTION case_grid_current();

CREATE VIEW grid_ever AS
  SELECT code, name, community_code, NULL::timestamptz AS retired_at, NULL::varchar AS successor
  FROM grid
  UNION ALL
  SELECT * FROM (
    SELECT DISTINCT ON (h.code) h.code, h.name, h.community_code, h.valid_to, h.successor
    FROM grid_history h
    WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = h.code)
    ORDER BY h.code, h.valid_to DESC) retired;

CREATE FUNCTION grid_lineage(codes varchar[]) RETURNS varchar[] LANGUAGE sql STABLE AS $$
  WITH RECURSIVE line(code) AS (
    SELECT unnest(codes)
    UNION
    SELECT h.code FROM grid_history h JOIN line l ON h.successor = l.code
    WHERE h.reason = 'merge')
  SELECT coalesce(array_agg(code ORDER BY code), ARRAY[]::varchar[]) FROM line
$$;

CREATE FUNCTION grid_current(c varchar) RETURNS varchar LANGUAGE sql STABLE AS $$
  WITH RECURSIVE up(code, depth) AS (
    SELECT c, 0
    UNION ALL
    SELECT h.successor, up.depth + 1
    FROM up CROSS JOIN LATERAL (
      SELECT successor FROM grid_history
      WHERE code = up.code AND reason = 'merge' ORDER BY valid_to DESC LIMIT 1) h
    WHERE up.depth < 100 AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = up.code))
  SELECT code FROM up WHERE EXISTS (SELECT 1 FROM grid g WHERE g.code = up.code) LIMIT 1
$$;
"""

DOWNGRADE = """
DROP FUNCTION grid_current(varchar);
DROP FUNCTION grid_lineage(varchar[]);
DROP VIEW grid_ever;
DROP TRIGGER case_grid_current ON "case";
DROP FUNCTION case_grid_current();
DROP TRIGGER grid_history_keep ON grid;
DROP FUNCTION grid_keep_history();
"""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.add_column("grid_history", sa.Column("reason", sa.String(12), nullable=False,
                                            server_default="reshape"))
    op.add_column("grid_history", sa.Column("successor", sa.String(15)))
    op.create_check_constraint("ck_grid_history_reason", "grid_history", _in("reason", REASONS))
    op.create_index("ix_grid_history_successor", "grid_history", ["successor"],
                    postgresql_where=sa.text("successor IS NOT NULL"))
    op.drop_constraint("case_grid_code_fkey", "case", type_="foreignkey")
    op.drop_constraint("ck_data_change_op", "data_change")
    op.create_check_constraint("ck_data_change_op", "data_change",
                               _in("op", (*OPS, "split", "merge")))
    op.execute(UPGRADE)


REFUSE_DOWNGRADE = """
DO $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM "case" c WHERE NOT EXISTS (SELECT 1 FROM grid g
                                                         WHERE g.code = c.grid_code);
  IF n > 0 THEN
    RAISE EXCEPTION '% cases were filed in grids merged away since: a schema before 0013 '
                    'cannot hold them (its case.grid_code refers to grid)', n;
  END IF;
END $$;
"""


def downgrade() -> None:
    op.execute(REFUSE_DOWNGRADE)
    op.execute(DOWNGRADE)
    op.execute("DELETE FROM data_change WHERE op IN ('split', 'merge')")
    op.drop_constraint("ck_data_change_op", "data_change")
    op.create_check_constraint("ck_data_change_op", "data_change", _in("op", OPS))
    op.create_foreign_key("case_grid_code_fkey", "case", "grid", ["grid_code"], ["code"])
    op.drop_index("ix_grid_history_successor", "grid_history")
    op.drop_constraint("ck_grid_history_reason", "grid_history")
    op.drop_column("grid_history", "successor")
    op.drop_column("grid_history", "reason")
