"""Coverage pages are for signed-in readers: here ``probe`` is a desktop page of a planner of
沈河区 who signed in through the real /login form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import PageProbe, open_probe
from sqlalchemy import Engine

DISTRICT = "210103"


@pytest.fixture(scope="session")
def planner_account(engine: Engine) -> Iterator[Account]:
    """A committed planner account of 沈河区."""
    account = make_account(engine, "planner", area_code=DISTRICT)
    yield account
    remove_accounts(engine, [account])


@pytest.fixture
def probe(browser: Any, live_server: str, planner_account: Account) -> Iterator[PageProbe]:
    """A desktop-sized page on the live server, signed in as the planner."""
    with open_probe(browser, live_server) as page_probe:
        sign_in(page_probe.page, planner_account)
        yield page_probe


@pytest.fixture
def phone_probe(browser: Any, live_server: str, planner_account: Account) -> Iterator[PageProbe]:
    """A phone-sized (390×844), touch-enabled page, signed in as the planner."""
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, device_scale_factor=2) as page_probe:
        sign_in(page_probe.page, planner_account)
        yield page_probe
