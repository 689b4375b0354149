"""Request-scoped access to the database session factory and settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from flask import current_app
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from gridmap.config import Settings
from gridmap.db import ReadPool


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


@contextmanager
def hot_connection() -> Iterator[psycopg.Connection]:
    """A psycopg autocommit connection from the read pool, for the hottest reads (locate)."""
    pool: ReadPool = current_app.extensions["gridmap.read_pool"]
    with pool.connection() as conn:
        yield conn
