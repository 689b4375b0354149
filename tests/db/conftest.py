"""Fixtures for the database tests: a scratch database to migrate from empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gridmap.config import Settings


@pytest.fixture
def scratch_settings(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for a freshly created, empty database, named after the test module so modules
    never share one, and dropped afterwards. Connected as the owner, who may create databases."""
    name = "gridmap_scratch_" + request.module.__name__.rsplit(".", 1)[-1]
    owner = settings.as_owner()
    admin = create_engine(make_url(owner.sqlalchemy_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    # The name comes from our own module names (letters, digits, underscores), quoted anyway.
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # noqa: S608
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(owner.database_url).set(database=name)
    yield Settings(database_url=url.render_as_string(hide_password=False),
                   secret_key=owner.secret_key)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # noqa: S608
    admin.dispose()
