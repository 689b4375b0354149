"""Fixtures shared by the web-tier tests: the app's sessions in a rolled-back transaction, and
grids with a point inside each to file cases at."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import sessionmaker


@pytest.fixture
def tx(app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Connection]:
    """Every session the app opens joins one transaction, rolled back after the test.

    What a request commits becomes a savepoint, so cases filed through the API never outlive
    the test. (Code that opens its own connections, such as the read pool, does not see them.)
    """
    with engine.connect() as connection:
        outer = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        monkeypatch.setitem(app.extensions, "gridmap.sessions", factory)
        yield connection
        outer.rollback()


@pytest.fixture
def api(client: FlaskClient, tx: Connection) -> FlaskClient:
    """The test client, its writes rolled back after the test (see :func:`tx`)."""
    return client


@pytest.fixture(scope="module")
def grids(engine: Engine) -> list[dict[str, Any]]:
    """Three grids far apart (first, 700th and last by code), each with a point inside it."""
    with engine.connect() as connection:
        rows = connection.execute(text("""
            SELECT code, name, community_code, ST_X(p) AS lon, ST_Y(p) AS lat
            FROM (SELECT code, name, community_code, ST_PointOnSurface(geom) AS p
                  FROM grid ORDER BY code) g
            WHERE code IN ((SELECT min(code) FROM grid), (SELECT max(code) FROM grid),
                           (SELECT code FROM grid ORDER BY code OFFSET 700 LIMIT 1))
            ORDER BY code
        """)).mappings().all()
    assert len(rows) == 3
    return [dict(r) for r in rows]
