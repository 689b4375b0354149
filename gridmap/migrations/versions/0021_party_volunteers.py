"""Party members and volunteers (issue 13 item 2): the Party layers, volunteer teams, tasks, points.

- ``party_branch`` (+ ``party_branch_grid``): a grid Party branch (网格党支部) of a community and
  the grids it serves (one branch per grid or shared by neighbouring grids; a grid belongs to
  at most one branch). No foreign key to ``grid``: a grid merged away leaves its branch, as a
  zero report outlives it (0019); reads join the current grids.
- ``party_group``: a building Party group (楼栋党小组) of a branch, at a building; its leader is a
  person (a Party member).
- ``party_household``: a Party-member central household (党员中心户): an existing person (role
  ``party_household``, enrolled in the building's grid by ``grid_member``) at a building, in a
  group where known. Personal data: the public sees counts per grid only.
- ``volunteer_skill``: skills as reference data (names shown to people).
- ``volunteer_team`` and ``volunteer``: teams per community with a skills focus and a leader
  (one of its volunteers); volunteers with skills, availability and a phone. Volunteers hold
  no account: staff record what they do on their behalf.
- ``volunteer_points_rule``: how hours turn into points, as data (one row per rule, the newest
  ``valid_from`` not in the future applies).
- ``volunteer_task`` (任务发布): a case or a care visit's need handed to a team: open → accepted
  (by a volunteer of the team) → done (with hours and the points they earned), or cancelled;
  one live task per case and per visit.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SKILLS = (
    ("elder_care", "助老服务", "elder care", 1),
    ("companionship", "陪伴聊天", "companionship", 2),
    ("repair", "维修", "repairs", 3),
    ("medical", "医疗健康", "health care", 4),
    ("legal", "法律咨询", "legal advice", 5),
    ("tutoring", "课业辅导", "tutoring", 6),
    ("cleaning", "环境整治", "cleaning up", 7),
    ("errands", "代办跑腿", "errands", 8),
    ("psychology", "心理疏导", "counselling", 9),
    ("mediation", "邻里调解", "neighbour mediation", 10),
)
STATES = ("open", "accepted", "done", "cancelled")


def _party() -> None:
    op.create_table(
        "party_branch",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("community_code", sa.String(12), sa.ForeignKey("community.code"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secretary_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_party_branch_name"),
    )
    op.create_table(
        "party_branch_grid",
        sa.Column("grid_code", sa.String(15), primary_key=True),
        sa.Column("branch_id", sa.BigInteger,
                  sa.ForeignKey("party_branch.id", ondelete="CASCADE"), nullable=False,
                  index=True),
    )
    op.create_table(
        "party_group",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("branch_id", sa.BigInteger, sa.ForeignKey("party_branch.id"), nullable=False,
                  index=True),
        sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), nullable=False,
                  index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("leader_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_party_group_name"),
    )
    op.create_table(
        "party_household",
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), nullable=False,
                  index=True),
        sa.Column("group_id", sa.BigInteger, sa.ForeignKey("party_group.id"), index=True),
        sa.Column("unit", sa.String(20), nullable=False, server_default=""),
        sa.Column("household", sa.String(20), nullable=False, server_default=""),
        sa.Column("since", sa.Date),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def _volunteers() -> None:
    op.create_table(
        "volunteer_skill",
        sa.Column("code", sa.String(24), primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
    )
    skill = sa.table("volunteer_skill", sa.column("code"), sa.column("name_zh"),
                     sa.column("name_en"), sa.column("sort"))
    op.bulk_insert(skill, [{"code": c, "name_zh": z, "name_en": e, "sort": s}
                           for c, z, e, s in SKILLS])
    op.create_table(
        "volunteer_team",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("community_code", sa.String(12), sa.ForeignKey("community.code"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.String(24)), nullable=False,
                  server_default="{}"),
        sa.Column("leader_id", sa.BigInteger),  # a volunteer of the team (FK added below)
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("community_code", "name", name="uq_volunteer_team_name"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_volunteer_team_name"),
    )
    op.create_table(
        "volunteer",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("team_id", sa.BigInteger, sa.ForeignKey("volunteer_team.id"), nullable=False,
                  index=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("skills", postgresql.ARRAY(sa.String(24)), nullable=False,
                  server_default="{}"),
        sa.Column("availability", sa.String(100), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("team_id", "name", "phone", name="uq_volunteer_team_person"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="ck_volunteer_name"),
    )
    op.create_foreign_key("fk_volunteer_team_leader", "volunteer_team", "volunteer",
                          ["leader_id"], ["id"])
    op.create_table(
        "volunteer_points_rule",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("valid_from", sa.Date, nullable=False, unique=True),
        sa.Column("points_per_hour", sa.Numeric(6, 2), nullable=False),
        sa.Column("points_per_task", sa.Integer, nullable=False),
        sa.Column("max_hours", sa.Numeric(4, 1), nullable=False),
        sa.CheckConstraint("points_per_hour >= 0 AND points_per_task >= 0",
                           name="ck_volunteer_points_rule_points"),
        sa.CheckConstraint("max_hours > 0 AND max_hours <= 24",
                           name="ck_volunteer_points_rule_hours"),
    )
    op.execute("INSERT INTO volunteer_points_rule (valid_from, points_per_hour, points_per_task, "
               "max_hours) VALUES ('2020-01-01', 10, 5, 12)")


def _tasks() -> None:
    op.create_table(
        "volunteer_task",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("team_id", sa.BigInteger, sa.ForeignKey("volunteer_team.id"), nullable=False,
                  index=True),
        sa.Column("case_id", sa.BigInteger, sa.ForeignKey("case.id")),
        sa.Column("visit_id", sa.BigInteger, sa.ForeignKey("care_visit.id")),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("published_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("volunteer_id", sa.BigInteger, sa.ForeignKey("volunteer.id"), index=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("hours", sa.Numeric(4, 1)),
        sa.Column("points", sa.Integer),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("recorded_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(f"state IN ({', '.join(repr(s) for s in STATES)})",
                           name="ck_volunteer_task_state"),
        sa.CheckConstraint("(case_id IS NULL) <> (visit_id IS NULL)",
                           name="ck_volunteer_task_source"),
        sa.CheckConstraint("state IN ('open', 'cancelled') OR volunteer_id IS NOT NULL",
                           name="ck_volunteer_task_volunteer"),
        sa.CheckConstraint("(state = 'done') = (hours IS NOT NULL AND points IS NOT NULL "
                           "AND done_at IS NOT NULL)", name="ck_volunteer_task_done"),
        sa.CheckConstraint("hours IS NULL OR (hours > 0 AND hours <= 24)",
                           name="ck_volunteer_task_hours"),
        sa.CheckConstraint("length(btrim(title)) > 0 AND length(detail) <= 2000",
                           name="ck_volunteer_task_text"),
    )
    op.create_index("uq_volunteer_task_live_case", "volunteer_task", ["case_id"], unique=True,
                    postgresql_where=sa.text("state <> 'cancelled'"))
    op.create_index("uq_volunteer_task_live_visit", "volunteer_task", ["visit_id"],
                    unique=True, postgresql_where=sa.text("state <> 'cancelled'"))
    op.create_index("ix_volunteer_task_grid_state", "volunteer_task", ["grid_code", "state"])


def upgrade() -> None:
    _party()
    _volunteers()
    _tasks()


def downgrade() -> None:
    op.drop_table("volunteer_task")
    op.drop_table("volunteer_points_rule")
    op.drop_constraint("fk_volunteer_team_leader", "volunteer_team", type_="foreignkey")
    op.drop_table("volunteer")
    op.drop_table("volunteer_team")
    op.drop_table("volunteer_skill")
    op.drop_table("party_household")
    op.drop_table("party_group")
    op.drop_table("party_branch_grid")
    op.drop_table("party_branch")
