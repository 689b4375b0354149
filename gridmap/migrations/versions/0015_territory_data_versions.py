"""Territory layers start with a data version (issue 10): ETags of the map's layers.

Migration 0014 makes ``data_version`` count the changes to districts, sub-districts,
communities, grids and facility types (for the tiles). The layer endpoints
(``/api/layers/<layer>.geojson``) answer ``If-None-Match`` with a 304 while nothing they are
read from has changed; so that a first ETag exists before any change, each of those layers
starts at version 1 here.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LAYERS = ("districts", "subdistricts", "communities", "grids", "facility_types")


def upgrade() -> None:
    op.execute("INSERT INTO data_version (layer, key, version) VALUES "
               + ", ".join(f"('{layer}', '', 1)" for layer in LAYERS)
               + " ON CONFLICT (layer, key) DO NOTHING")


def downgrade() -> None:
    """The versions stay (0014's downgrade removes them with their triggers)."""
