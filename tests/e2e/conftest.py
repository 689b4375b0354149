"""Real-browser fixtures: the app on a live local server, and Debian's Chromium, offline.

See e2e_support.py for how pages are kept offline and how a missing browser is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import CHROMIUM, CHROMIUM_ARGS, Accounts, PageProbe, browser_unavailable, open_probe, serve


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    """The test app (real PostGIS, 沈河区 loaded) on a live local server."""
    with serve(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, started once per session."""
    try:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
    except Exception as exc:  # noqa: BLE001 - reported as a skip or a failure below
        browser_unavailable(f"cannot start Playwright: {exc}")
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001
        playwright.stop()
        browser_unavailable(f"cannot launch {CHROMIUM}: {exc}")
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def probe(browser: Any, live_server: str) -> Iterator[PageProbe]:
    """A desktop-sized page on the live server."""
    with open_probe(browser, live_server) as page_probe:
        yield page_probe


@pytest.fixture
def phone_probe(browser: Any, live_server: str) -> Iterator[PageProbe]:
    """A phone-sized, touch-enabled page on the live server."""
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, device_scale_factor=2) as page_probe:
        yield page_probe


@pytest.fixture(scope="module")
def accounts(engine: Any, owner_engine: Any) -> Iterator[Accounts]:
    """Makes committed accounts for demo people; removes them when the module is done."""
    from gridmap.db import make_session_factory

    made = Accounts(make_session_factory(engine))
    try:
        yield made
    finally:
        made.remove_all(owner_engine)
