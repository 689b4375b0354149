"""Helpers for the real-browser tests: a live server, and offline-guarded pages.

The browser is never downloaded: Playwright drives ``/usr/bin/chromium``. Every request that is
not for 127.0.0.1 is aborted and recorded, and a test fails if any was attempted, which proves
the pages work with no CDN and no internet. A browser that cannot start fails the run on CI
(``CI=true``) instead of skipping, because a skipped browser test proves nothing.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1"}


_APP_ITER = "gridmap.e2e.app_iter"


class _ClosingHandler(WSGIRequestHandler):
    """Closes the response when the browser drops the connection mid-response.

    werkzeug's development server skips ``close()`` of the response iterable when the socket
    is already reset (a browser cancels a favicon or tile request it no longer needs), leaving
    the served file open: a ResourceWarning, an error under our pytest settings, at random.
    """

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        """Close what the app returned (closing twice is harmless)."""
        close = getattr((environ or {}).get(_APP_ITER), "close", None)
        if close is not None:
            close()


def _remember_response(app: Any) -> Any:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        environ[_APP_ITER] = response = app(environ, start_response)
        return response
    return wsgi


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with werkzeug on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, _remember_response(app), threaded=True,
                         request_handler=_ClosingHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        # Close the pooled connections the server's threads opened; left to the garbage
        # collector they end the run with ResourceWarnings (errors under our pytest settings).
        # The engine stays usable: a later test simply opens new connections.
        engine = app.extensions.get("gridmap.engine")
        if engine is not None:
            engine.dispose()


def browser_unavailable(reason: str) -> NoReturn:
    """Fail: the browser tests must run wherever the suite runs (`make test` installs it)."""
    pytest.fail(f"{reason} (browser tests never skip: run `make test`, which installs Chromium)")


@dataclass
class PageProbe:
    """A Playwright page plus what it did: blocked off-host requests, console errors."""

    page: Any
    base_url: str
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Save a screenshot to test-artifacts/ (look at it: passing is not enough)."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # Software-rendered Chromium may still be rasterising thousands of SVG paths; a shot
        # taken at once shows unpainted tiles. Two frames and a pause let it finish.
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                           "requestAnimationFrame(r)))")
        self.page.wait_for_timeout(250)
        self.page.screenshot(path=str(path), animations="disabled")
        return path


def _offline_guard(probe: PageProbe) -> Any:
    def handle(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            probe.blocked.append(url)
            route.abort()

    return handle


@contextmanager
def open_probe(browser: Any, base_url: str, **context_options: Any) -> Iterator[PageProbe]:
    """A fresh context and page, offline-guarded; asserts afterwards that nothing left the host."""
    options = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN", **context_options}
    context = browser.new_context(base_url=base_url, **options)
    page = context.new_page()
    probe = PageProbe(page=page, base_url=base_url)
    context.route("**/*", _offline_guard(probe))
    page.on("console", lambda msg: msg.type == "error" and probe.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: probe.console_errors.append(f"uncaught: {exc}"))
    try:
        yield probe
    finally:
        context.close()
    assert probe.blocked == [], f"the page tried to reach other hosts: {probe.blocked}"
    assert probe.console_errors == [], f"console errors: {probe.console_errors}"




# ------------------------------------------------------------------ accounts and signing in

@dataclass(frozen=True)
class TestAccount:
    """An account the e2e tests made (committed: the live server must see it) and its password."""

    __test__ = False                # not a test class, whatever pytest thinks of its name

    id: int
    username: str
    password: str
    role: str
    person_id: int


class Accounts:
    """Makes accounts for real demo people through the accounts service, and removes them again.

    Accounts are committed, because the live server reads them from its own connections; a person
    may hold one account only, so :meth:`remove_all` deletes them when the module is done (as the
    schema's owner), leaving the people free for later tests.
    """

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.made: list[TestAccount] = []

    def create(self, role: str, *, person_id: int | None = None, name: str = "",
               area_code: str | None = None, department_code: str | None = None) -> TestAccount:
        """A new account of ``role`` for person ``person_id`` (or a new person called ``name``,
        as for an office post), with a known password."""
        from gridmap.access import Principal
        from gridmap.accounts.services import accounts

        username = f"e2e-{role.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        password = f"Pw!{uuid.uuid4().hex[:16]}"
        made = accounts.create(self.factory, Principal(username="test"), accounts.NewAccount(
            username=username, role=role, person_id=person_id, name=name, area_code=area_code,
            department_code=department_code, password=password))
        account = TestAccount(int(made["id"]), username, password, role, int(made["person_id"]))
        self.made.append(account)
        return account

    def headers(self, account: TestAccount) -> dict[str, str]:
        """Request headers that act as ``account`` (a personal API token, as a script's)."""
        from gridmap.accounts.services import principals, tokens

        with self.factory() as session:
            found = principals.load(session, account.id, address=None)
        assert found is not None, account
        issued = tokens.issue_token(self.factory, found.principal, "e2e")
        return {"Authorization": f"Bearer {issued['token']}", "Accept": "application/json"}

    def remove_all(self, owner_engine: Any) -> None:
        """Delete every account made here, with its tokens."""
        from sqlalchemy import text

        ids = [a.id for a in self.made]
        if ids:
            with owner_engine.begin() as conn:
                conn.execute(text("DELETE FROM api_token WHERE account_id = ANY(:ids)"), {"ids": ids})
                conn.execute(text("DELETE FROM account WHERE id = ANY(:ids)"), {"ids": ids})
        self.made.clear()


SIGN_IN_TIMEOUT_MS = 15_000


def sign_in(page: Any, account: TestAccount, *, next_path: str | None = None) -> None:
    """Sign ``page`` in through the real /login form, as a person would."""
    page.goto("/login" + (f"?next={quote(next_path, safe='/')}" if next_path else ""))
    submit_sign_in(page, account)


def submit_sign_in(page: Any, account: TestAccount) -> None:
    """Fill and send the sign-in form ``page`` shows; waits until it has gone elsewhere."""
    page.fill("#gm-username", account.username)
    page.fill("#gm-password", account.password)
    with page.expect_navigation(timeout=SIGN_IN_TIMEOUT_MS):
        page.click("#gm-sign-in")
    assert urlsplit(page.url).path != "/login", page.locator(".gm-flash").all_inner_texts()


def sign_out(page: Any) -> None:
    """Sign out with the header menu's button (a POST with the CSRF token); lands on /login."""
    page.click("#gm-user-menu")
    with page.expect_navigation(timeout=SIGN_IN_TIMEOUT_MS):
        page.click("#gm-sign-out")
    assert urlsplit(page.url).path == "/login", page.url
