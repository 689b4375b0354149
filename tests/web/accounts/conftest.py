"""Fixtures for the account tests: accounts with known passwords, sign-in through the real form
(cookie session and CSRF token, as a browser does), and apps with small sign-in limits.

Every account lives in the test's rolled-back transaction (``tx``), so nothing outlives a test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest
from account_forms import PASSWORD, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import sessionmaker

from gridmap.accounts import credentials
from gridmap.config import Settings

_POST = {"grid_worker": "grid_worker", "department_staff": "department_staff",
         "community_staff": "community_secretary"}


@dataclass(frozen=True)
class Made:
    """An account made for a test: its ids, user name and password."""

    account_id: int
    person_id: int
    username: str
    password: str


@pytest.fixture
def make_account(tx: Connection) -> Callable[..., Made]:
    """Make an account with a known password (hashed as the app hashes them)."""
    def make(role: str = "admin", *, person_id: int | None = None, area: str | None = None,
             department: str | None = None, must_change: bool = False,
             password: str = PASSWORD, username: str | None = None,
             name: str | None = None) -> Made:
        if person_id is None:
            person_id = tx.execute(text(
                "INSERT INTO person (name, role, department_code) VALUES (:n, :r, :d) "
                "RETURNING id"), {"n": name or f"测试{role}", "r": _POST.get(role, "staff"),
                                  "d": department}).scalar_one()
        username = username or f"u{uuid.uuid4().hex[:12]}"
        account_id = tx.execute(text(
            "INSERT INTO account (username, person_id, role, area_code, department_code, "
            "password_hash, must_change_password) VALUES (:u, :p, :r, :a, :d, :h, :m) "
            "RETURNING id"), {"u": username, "p": person_id, "r": role, "a": area,
                              "d": department, "h": credentials.hash_password(password),
                              "m": must_change}).scalar_one()
        return Made(account_id, person_id, username, password)

    return make


@pytest.fixture
def admin_client(client: FlaskClient, make_account: Callable[..., Made]) -> FlaskClient:
    """A browser signed in as an administrator (cookie session)."""
    made = make_account("admin")
    assert sign_in(client, made.username, made.password).status_code == 302
    client.admin = made  # type: ignore[attr-defined]
    return client


@pytest.fixture
def app_with(settings: Settings, tx: Connection,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build an app with changed rate limits (a key prefix of its own), on the test's
    transaction like the shared app."""
    from gridmap.app import create_app

    built: list[Flask] = []

    def build(**rates: str) -> Flask:
        limits = replace(settings.rate_limits, key_prefix=f"gridmap-test-{uuid.uuid4().hex}",
                         **rates)
        app = create_app(replace(settings, rate_limits=limits))
        app.config["TESTING"] = True
        factory = sessionmaker(bind=tx, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        monkeypatch.setitem(app.extensions, "gridmap.sessions", factory)
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["gridmap.read_pool"].close()
        app.extensions["gridmap.engine"].dispose()
