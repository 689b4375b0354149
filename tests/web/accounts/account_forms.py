"""Browser-like helpers for the account tests: forms with their CSRF tokens, the sign-in form.

A module of its own (not conftest.py) so test modules can import it by name.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

PASSWORD = "correct-horse-battery-42"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "no csrf_token on the page"
    return found.group(1) or found.group(2)


def form_token(client: FlaskClient, path: str = "/login") -> str:
    """Open a page as a browser would and take its form's CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_token(page.get_data(as_text=True))


def sign_in(client: FlaskClient, username: str, password: str, **extra: str) -> Any:
    """Submit the sign-in form (with its CSRF token) and return the answer."""
    token = form_token(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, **extra})


def post_form(client: FlaskClient, path: str, data: dict[str, Any] | None = None,
              *, page: str | None = None) -> Any:
    """POST a form from a page (``page``, else the admin index) with that page's CSRF token."""
    token = form_token(client, page or "/admin/")
    return client.post(path, data={"csrf_token": token, **(data or {})})
