"""The case e2e tests' shared fixtures: each test module reports in its own ``CATEGORY`` (which
names the department that must act), at a spot well inside a grid, with that spot's people."""

from __future__ import annotations

import pytest
from case_people import Cast, Spot, find_spot, make_cast
from e2e_support import Accounts
from sqlalchemy import Engine


@pytest.fixture(scope="module")
def spot(request: pytest.FixtureRequest, engine: Engine) -> Spot:
    """Where the module's cases are reported: a grid of its ``CATEGORY``'s department."""
    return find_spot(engine, request.module.CATEGORY)


@pytest.fixture(scope="module")
def cast(accounts: Accounts, spot: Spot) -> Cast:
    """The spot's grid worker, department staff, community staff and another grid's worker."""
    return make_cast(accounts, spot)
