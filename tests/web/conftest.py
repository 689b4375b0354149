"""Fixtures shared by the web-tier tests: the app's sessions in a rolled-back transaction, and
grids with a point inside each to file cases at."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
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


@pytest.fixture
def media(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's media folder, moved to a temporary directory for this test."""
    settings = dataclasses.replace(app.extensions["gridmap.settings"], media_dir=tmp_path)
    monkeypatch.setitem(app.extensions, "gridmap.settings", settings)
    return tmp_path


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


_ROLE_POST = {"grid_worker": "grid_worker", "department_staff": "department_staff",
              "community_staff": "community_secretary"}


@pytest.fixture
def login(tx: Connection) -> Callable[..., dict[str, str]]:
    """Make an account (in the test's transaction) and return headers that act as it.

    ``login("grid_worker", person_id=…)`` signs in as an existing person (a grid worker's grids
    and a department's enrolments come from the territory's tables); without ``person_id`` a
    new office person is made. The headers carry a personal API token, as a script's would;
    cookie sign-in is tested on its own (tests/web/accounts).
    """
    from gridmap.accounts import credentials

    def make(role: str, *, person_id: int | None = None, area: str | None = None,
             department: str | None = None) -> dict[str, str]:
        if person_id is None:
            person_id = tx.execute(text(
                "INSERT INTO person (name, role, department_code) VALUES (:n, :r, :d) RETURNING id"),
                {"n": f"测试{role}", "r": _ROLE_POST.get(role, "staff"), "d": department}).scalar_one()
        username = f"t{uuid.uuid4().hex[:12]}"
        account_id = tx.execute(text(
            "INSERT INTO account (username, person_id, role, area_code, department_code, "
            "password_hash, must_change_password) VALUES (:u, :p, :r, :a, :d, 'x', false) "
            "RETURNING id"),
            {"u": username, "p": person_id, "r": role, "a": area, "d": department}).scalar_one()
        secret, digest, prefix = credentials.new_secret("gmt")
        tx.execute(text("INSERT INTO api_token (account_id, name, digest, prefix) "
                        "VALUES (:a, 'test', :d, :p)"), {"a": account_id, "d": digest, "p": prefix})
        return {"Authorization": f"Bearer {secret}"}

    return make
