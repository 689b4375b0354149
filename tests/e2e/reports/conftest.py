"""The reports page is for planners: here ``probe`` is a desktop page of a planner of 沈河区 who
signed in through the real /login form (as in tests/e2e/coverage)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import PageProbe, open_probe
from sqlalchemy import Engine

DISTRICT = "210103"


@pytest.fixture(scope="session")
def report_planner(engine: Engine) -> Iterator[Account]:
    """A committed planner account of 沈河区."""
    account = make_account(engine, "planner", area_code=DISTRICT)
    yield account
    remove_accounts(engine, [account])


@pytest.fixture
def probe(browser: Any, live_server: str, report_planner: Account) -> Iterator[PageProbe]:
    """A desktop-sized page on the live server, signed in as the planner."""
    with open_probe(browser, live_server) as page_probe:
        sign_in(page_probe.page, report_planner)
        yield page_probe
