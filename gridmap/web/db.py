"""Request-scoped access to the database session factory and settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from flask import Flask, current_app
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gridmap import schema
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


ServiceCheck = Callable[[], str | None]
"""A feature's check for the health endpoint: None when well, else what is wrong."""


def register_service_check(app: Flask, name: str, check: ServiceCheck) -> None:
    """Add a check that :func:`service_checks` runs (a feature's part of the service)."""
    app.extensions.setdefault("gridmap.service_checks", {})[name] = check


def service_checks() -> dict[str, str]:
    """The features' checks (the job worker's…), a word each: ``ok`` or what is wrong. They
    do not decide readiness: a stopped job worker must not take the web out of service."""
    checks: dict[str, ServiceCheck] = current_app.extensions.get("gridmap.service_checks", {})
    return {name: check() or "ok" for name, check in sorted(checks.items())}


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether the app can serve: the database answers and is at this code's migration head;
    with a word per check for the health endpoint."""
    head = schema.head_revision(settings())
    for attempt in (1, 2):
        try:
            with read_connection() as conn:
                current = schema.database_revision(conn)
            break
        except DBAPIError as exc:
            # A connection the pool held from before a restart fails once, and the pool is
            # invalidated: a second checkout reaches the database if it is back.
            if attempt == 2 or not exc.connection_invalidated:
                return False, {"database": "unreachable", "migrations": "unknown"}
    migrated = current == head
    return migrated, {"database": "ok",
                      "migrations": "ok" if migrated else f"at {current or 'none'}, need {head}"}
