"""Coverage is read by signed-in readers only: these tests act as a planner of 沈河区 (the
district the test database holds) unless they say otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

DISTRICT = "210103"  # 沈河区, loaded by tests/conftest.py
OTHER_DISTRICT = "210104"  # 大东区: a district whose accounts may not read 沈河区


def signed_in(client: FlaskClient, headers: dict[str, str]) -> FlaskClient:
    """``client`` sending ``headers`` (a personal API token) with every request."""
    client.environ_base["HTTP_AUTHORIZATION"] = headers["Authorization"]
    return client


@pytest.fixture
def planner(api: FlaskClient, login: Callable[..., dict[str, str]]) -> FlaskClient:
    """A test client signed in as a planner of 沈河区 (its writes rolled back)."""
    return signed_in(api, login("planner", area=DISTRICT))


@pytest.fixture
def client_as(app: Any, api: FlaskClient,
              login: Callable[..., dict[str, str]]) -> Callable[..., FlaskClient]:
    """``client_as(role, **login_options)``: a fresh client signed in as a new account."""

    def make(role: str, **options: Any) -> FlaskClient:
        return signed_in(app.test_client(), login(role, **options))

    return make
