"""Vector tiles (issue 10): they know when they are stale, and their geometries are kept in Web
Mercator.

- ``data_version`` also counts the changes to grids, the territory's areas and facility types.
- ``geom_3857``: districts, sub-districts, communities, grids, buildings and street edges keep
  their geometry in EPSG:3857 too, as a stored generated column (PostgreSQL recomputes it on
  every write of ``geom``). Projecting on the fly was most of a tile's cost (about 20 of 25 ms
  for a zoom-13 tile of 1,800 buildings); the rows are still found with ``geom``'s index.

Migration 0010 counts changes to streets, buildings and each type's facilities (what coverage is
computed from). Tiles are built from the areas and grids too, and a tile's ``ETag`` and cache key
carry the counts of the layers it is made of; so the same statement triggers now watch ``grid``,
``community``, ``subdistrict``, ``district`` and ``facility_type`` (layers ``grids``,
``communities``, ``subdistricts``, ``districts``, ``facility_types``). A count only ever grows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WATCHED = (("grid", "grids"), ("community", "communities"), ("subdistrict", "subdistricts"),
           ("district", "districts"), ("facility_type", "facility_types"))
EVENTS = (("INSERT", "NEW TABLE AS rows"), ("UPDATE", "NEW TABLE AS rows"),
          ("DELETE", "OLD TABLE AS rows"))


def _name(table: str, event: str) -> str:
    return f"data_version_{table}_{event.lower()}"


PROJECTED = (("district", "MultiPolygon"), ("subdistrict", "MultiPolygon"),
             ("community", "MultiPolygon"), ("grid", "Polygon"), ("building", "Polygon"),
             ("street_edge", "LineString"))


def upgrade() -> None:
    for table, kind in PROJECTED:
        op.execute(f"ALTER TABLE {table} ADD COLUMN geom_3857 geometry({kind}, 3857) "
                   "GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED")
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


def downgrade() -> None:
    for table, layer in WATCHED:
        for event, _ in EVENTS:
            name = _name(table, event)
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
        op.execute(f"DELETE FROM data_version WHERE layer = '{layer}'")
    for table, _ in PROJECTED:
        op.execute(f"ALTER TABLE {table} DROP COLUMN geom_3857")
