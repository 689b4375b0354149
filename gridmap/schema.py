"""Apply the Alembic migrations programmatically."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config

from gridmap.config import Settings


def alembic_config(settings: Settings) -> Config:
    """An Alembic config pointing at the packaged migrations and the settings' database."""
    ini = files("gridmap").joinpath("alembic.ini")
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(files("gridmap").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    command.downgrade(alembic_config(settings), revision)
