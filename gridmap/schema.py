"""Apply the Alembic migrations programmatically, as the schema's owner, and grant the app role
what it needs (data only) afterwards."""

from __future__ import annotations

from importlib.resources import files

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url

from gridmap.config import Settings

SCHEMA = "public"
APPEND_ONLY = ("case_event", "audit_log", "dispute_event")
"""Tables the app may only read and add to: the case history, the audit log and the dispute
history are evidence (migrations 0003, 0006 and 0022)."""

_GRANTS = (
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    # Tables a later migration creates are the app's too, before the grants are re-applied.
    "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
    "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
)


def alembic_config(settings: Settings) -> Config:
    """An Alembic config pointing at the packaged migrations and the settings' database."""
    ini = files("gridmap").joinpath("alembic.ini")
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(files("gridmap").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    return cfg


def head_revision(settings: Settings) -> str | None:
    """The newest migration this code ships (what ``gridmap db upgrade`` goes to)."""
    head: str | None = ScriptDirectory.from_config(alembic_config(settings)).get_current_head()
    return head


def database_revision(connection: Connection) -> str | None:
    """The migration the connected database is at (None before the first upgrade)."""
    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def app_role(settings: Settings) -> str | None:
    """The app's role when it differs from the owner's, else None (one role does everything)."""
    app_user = make_url(settings.sqlalchemy_url).username
    owner_user = make_url(settings.as_owner().sqlalchemy_url).username
    return app_user if app_user and app_user != owner_user else None


def grant_app_role(connection: Connection, role: str) -> None:
    """(Re)apply the app role's privileges: data on every table, append-only ``case_event``.

    Idempotent; run by the owner after every upgrade, so tables a migration re-created get them.
    """
    names = {"schema": sql.Identifier(SCHEMA), "role": sql.Identifier(role)}
    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("the grants need the psycopg 3 driver (postgresql+psycopg://)")
    for statement in _GRANTS:
        raw.execute(sql.SQL(statement).format(**names))
    for table in APPEND_ONLY:
        raw.execute(sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {}.{} FROM {}").format(
            sql.Identifier(SCHEMA), sql.Identifier(table), sql.Identifier(role)))


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` as the owner, then grant the app role."""
    owner = settings.as_owner()
    command.upgrade(alembic_config(owner), revision)
    role = app_role(settings)
    if role is None:
        return
    engine = create_engine(owner.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            grant_app_role(connection, role)
    finally:
        engine.dispose()


def downgrade(settings: Settings, revision: str) -> None:
    """Migrate the database down to ``revision`` as the owner."""
    command.downgrade(alembic_config(settings.as_owner()), revision)
