"""Request-scoped access to the database session factory and settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
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
def read_session() -> Iterator[Session]:
    """A session for reads; its transaction is rolled back at the end."""
    with session_factory()() as session:
        yield session
