"""Fixtures for the database tests: a scratch database to migrate from empty."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from gridmap.config import Settings


def _drop(conn: Connection, name: str) -> None:
    """Drop the database, forcing out connections; retried while an autovacuum worker visits it.

    WITH (FORCE) refuses to end a process of a role the owner is not a member of, and an
    autovacuum worker on the new database is one such (a plain DROP would wait for it, but not
    for our own idle connections); the worker is gone within moments.
    """
    for attempt in range(50):
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # noqa: S608
            return
        except ProgrammingError:
            if attempt == 49:
                raise
            time.sleep(0.1)


@pytest.fixture
def scratch_settings(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for a freshly created, empty database, named after the test database and the
    test module so neither two modules nor two suites run side by side (each on its own test
    database) share one, and dropped afterwards. Connected as the owner, who may create
    databases."""
    owner = settings.as_owner()
    suite = make_url(owner.sqlalchemy_url).database or "gridmap"
    name = f"{suite}_scratch_{request.module.__name__.rsplit('.', 1)[-1]}"[:63]
    admin = create_engine(make_url(owner.sqlalchemy_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    # The name comes from our own module names (letters, digits, underscores), quoted anyway.
    with admin.connect() as conn:
        _drop(conn, name)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(owner.database_url).set(database=name)
    yield Settings(database_url=url.render_as_string(hide_password=False),
                   secret_key=owner.secret_key)
    with admin.connect() as conn:
        _drop(conn, name)
    admin.dispose()
