"""Accounts for the real-browser tests, and signing in through the real /login form.

The live server reads through its own connections, so these accounts are committed (with a
known password, not one-time) and removed again by :func:`remove_accounts`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from gridmap.access import Principal
from gridmap.accounts.services import accounts
from gridmap.db import make_session_factory

TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Account:
    """A committed test account: its user name and password."""

    username: str
    password: str


def make_account(engine: Engine, role: str, **options: Any) -> Account:
    """Commit an account of ``role`` (``person_id=…`` for an existing person, else a new one)."""
    username = f"e2e-{role.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(12)
    name = "" if options.get("person_id") else f"测试{role}"
    accounts.create(make_session_factory(engine), Principal(username="e2e"),
                    accounts.NewAccount(username=username, role=role, name=name,
                                        password=password, **options))
    return Account(username, password)


def remove_accounts(engine: Engine, made: list[Account]) -> None:
    """Delete the accounts (and the people made for them; existing people stay)."""
    names = [a.username for a in made]
    with engine.begin() as conn:
        people = conn.execute(text("SELECT person_id FROM account WHERE username = ANY(:u)"),
                              {"u": names}).scalars().all()
        conn.execute(text("DELETE FROM api_token WHERE account_id IN "
                          "(SELECT id FROM account WHERE username = ANY(:u))"), {"u": names})
        conn.execute(text("DELETE FROM account WHERE username = ANY(:u)"), {"u": names})
        conn.execute(text("DELETE FROM person WHERE id = ANY(:p) AND role = 'staff'"),
                     {"p": list(people)})


def sign_in(page: Any, account: Account, *, next_path: str = "/") -> None:
    """Sign in through the page as a person would; returns on the page ``next_path`` names."""
    page.goto(f"/login?next={next_path}")
    page.locator("#gm-username").fill(account.username)
    page.locator("#gm-password").fill(account.password)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.locator("#gm-sign-in").click()
    assert "/login" not in page.url, page.locator("body").inner_text()[:300]
