"""Accounts, personal API tokens, Open311 client keys and the audit log.

An account is how a person signs in: it names one person (the actor of every case event), a
role and the role's scope (see ``gridmap/access.py``). The database holds the rules a bad
loader could break: the role list, which roles need an area and of which width, department
staff need a department. Passwords are argon2id hashes; tokens and client keys are stored as
SHA-256 digests of 32 random bytes (a fast hash is right for secrets that are not guessable;
argon2 protects low-entropy passwords). ``audit_log`` is append-only for the app role, like
``case_event`` (see ``gridmap/schema.py``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import INET, JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROLES = ("grid_worker", "community_staff", "subdistrict_staff", "district_centre",
         "department_staff", "planner", "data_officer", "admin")
_NOW = sa.text("now()")
OLD_PERSON_ROLES = ("grid_worker", "department_staff", "community_secretary", "party_household")
PERSON_ROLES = (*OLD_PERSON_ROLES, "staff")
"""``staff``: a person whose post is an office (sub-district, command centre, planning, data,
administration) rather than a grid or a department's enrolment."""


def _person_roles(roles: tuple[str, ...]) -> None:
    op.drop_constraint("person_role", "person", type_="check")
    listed = ", ".join(f"'{r}'" for r in roles)
    op.create_check_constraint("person_role", "person", f"role IN ({listed})")


def upgrade() -> None:
    _person_roles(PERSON_ROLES)
    roles = ", ".join(f"'{r}'" for r in ROLES)
    op.create_table(
        "account",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False,
                  unique=True),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("area_code", sa.String(15)),
        sa.Column("department_code", sa.String(40), sa.ForeignKey("department.code")),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True)),
        sa.Column("deactivated_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"role IN ({roles})", name="account_role"),
        sa.CheckConstraint("username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'", name="account_username"),
        sa.CheckConstraint(
            "CASE role WHEN 'community_staff' THEN area_code ~ '^[0-9]{12}$' "
            "WHEN 'subdistrict_staff' THEN area_code ~ '^[0-9]{9}$' "
            "WHEN 'district_centre' THEN area_code ~ '^[0-9]{6}$' "
            "WHEN 'planner' THEN area_code IS NULL OR area_code ~ '^[0-9]{6}$' "
            "WHEN 'data_officer' THEN area_code IS NULL OR area_code ~ '^[0-9]{6}$' "
            "ELSE area_code IS NULL END", name="account_area_fits_role"),
        sa.CheckConstraint("(role = 'department_staff') = (department_code IS NOT NULL)",
                           name="account_department_fits_role"),
    )
    op.create_index("ux_account_username", "account", ["username"], unique=True)
    op.create_index("ix_account_role_area", "account", ["role", "area_code"])
    # The administration pages search accounts by user name and people by name (substrings, at
    # city scale: tens of thousands of people); trigram indexes keep ILIKE '%…%' off a full scan.
    op.execute("CREATE INDEX ix_account_username_trgm ON account USING gin (username gin_trgm_ops)")
    op.execute("CREATE INDEX ix_person_name_trgm ON person USING gin (name gin_trgm_ops)")

    op.create_table(
        "api_token",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("account.id"), nullable=False,
                  index=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "open311_client",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("contact", sa.Text, nullable=False, server_default=""),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_by", sa.BigInteger),  # an account id; clients outlive accounts
        # The person its cases are recorded as created by ("Open311: <name>", made at first use).
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        # No foreign key: the log is evidence that must outlive what it names (a reload of the
        # territory truncates people and accounts with CASCADE; the log stays).
        sa.Column("account_id", sa.BigInteger),
        sa.Column("username", sa.String(64), nullable=False, server_default=""),
        sa.Column("address", INET),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target_kind", sa.String(24), nullable=False, server_default=""),
        sa.Column("target_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_audit_log_at", "audit_log", [sa.text("at DESC"), sa.text("id DESC")])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", sa.text("at DESC")])
    op.create_index("ix_audit_log_account_at", "audit_log", ["account_id", sa.text("at DESC")])
    # The audit page filters by user name (failed sign-ins have no account id, only the name).
    op.create_index("ix_audit_log_username_at", "audit_log", ["username", sa.text("at DESC")])
    op.create_index("ix_audit_log_target", "audit_log", ["target_kind", "target_id"])
    # A department's board: the cases whistled to it, by department (the owner has its own index).
    op.create_index("ix_case_cohandler_department", "case_cohandler",
                    ["department_code", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_cohandler_department", "case_cohandler")
    op.drop_table("audit_log")
    op.drop_table("open311_client")
    op.drop_table("api_token")
    op.drop_table("account")
    op.drop_index("ix_person_name_trgm", "person")
    op.execute("DELETE FROM person WHERE role = 'staff'")
    _person_roles(OLD_PERSON_ROLES)
