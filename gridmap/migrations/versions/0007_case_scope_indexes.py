"""Indexes for the case board read through a person's scope (issue 8).

Every board query now carries the reader's scope (see ``gridmap/cases/repositories/scope.py``):
an area is an equality on the case's code column of that level, a grid worker's grids are
``grid_code IN (…)``, a department's cases are its own or whistled to it in its enrolled grids.
Measured on 500,000 synthetic cases (EXPLAIN ANALYZE, issue 8's notes), the overdue section
(unresolved cases past their deadline, earliest first) of an area's board read the whole city's
overdue cases and filtered them (20–220 ms), and a department's board walked every case by date
(25–60 ms, growing with the city). With these indexes each is an ordered range scan (< 1 ms) or
a small bitmap (a few ms):

- ``ix_case_open_<level>_code`` (area code, resolve_by, id) over unresolved cases, one per
  level: the overdue section of an area's or a grid worker's board in the keyset's order, read
  until the page is full. The predicate spells out the unresolved states as migration 0003 does
  (a test keeps them equal to the workflow's group).
- ``ix_case_owner_department_grid`` (owner_department, grid_code, created_at, id): the cases a
  department owns in its enrolled grids, ORed in one bitmap with the ones whistled to it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNRESOLVED = ("reported", "dispatched", "in_progress", "returned", "suspended")
AREA_COLUMNS = ("district_code", "subdistrict_code", "community_code", "grid_code")


def _unresolved() -> sa.TextClause:
    return sa.text("state IN (" + ", ".join(f"'{s}'" for s in UNRESOLVED) + ")")


def upgrade() -> None:
    for column in AREA_COLUMNS:
        op.create_index(f"ix_case_open_{column}", "case", [column, "resolve_by", "id"],
                        postgresql_where=_unresolved())
    op.create_index("ix_case_owner_department_grid", "case",
                    ["owner_department", "grid_code", sa.text("created_at DESC"),
                     sa.text("id DESC")])


def downgrade() -> None:
    op.drop_index("ix_case_owner_department_grid", "case")
    for column in reversed(AREA_COLUMNS):
        op.drop_index(f"ix_case_open_{column}", "case")
