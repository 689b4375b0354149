"""Alembic environment: online migrations only, URL from the Alembic config or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from gridmap.config import Settings
from gridmap.models import Base

target_metadata = Base.metadata


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    return Settings.from_env().sqlalchemy_url


def run_migrations_online() -> None:
    """Run migrations in one transaction on a fresh connection."""
    engine = create_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
