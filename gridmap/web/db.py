"""Request-scoped access to the database session factory and settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from gridmap.config import Settings


def settings() -> Settings:
    """The app's settings."""
    value: Settings = current_app.extensions["gridmap.settings"]
    return value


def session_factory() -> sessionmaker[Session]:
    """The app's session factory."""
    factory: sessionmaker[Session] = current_app.extensions["gridmap.sessions"]
    return factory


@contextmanager
def read_connection() -> Iterator[Connection]:
    """An autocommit connection for single-statement reads.

    No BEGIN/ROLLBACK round trips and no ORM unit of work: on the locate hot path this is
    several times cheaper than a Session (see bench/README.md).
    """
    engine: Engine = current_app.extensions["gridmap.read_engine"]
    with engine.connect() as conn:
        yield conn
