"""The OGC API's HTML pages in a real browser: the items page draws its features on a map,
pages on by its next link, and the collection list opens."""

from __future__ import annotations

import pytest
from e2e_support import PageProbe

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 15_000


def test_items_page_draws_the_page_on_a_map(probe: PageProbe) -> None:
    page = probe.page
    page.goto("/ogc/collections?f=html")
    assert page.locator("#gm-ogc-collections tbody tr").count() >= 9
    probe.screenshot("ogc-collections")
    page.goto("/ogc/collections/buildings/items?f=html&limit=20&sortby=-residents")
    page.wait_for_function("document.getElementById('gm-ogc-map').dataset.features === '20'",
                           timeout=TIMEOUT_MS)
    assert page.locator("#gm-ogc-items tbody tr").count() == 20
    assert page.locator("#gm-ogc-map path.leaflet-interactive").count() == 20
    probe.screenshot("ogc-items")
    first = page.locator("#gm-ogc-items tbody tr td a").first.inner_text()
    page.locator("#gm-ogc-next").click()
    page.wait_for_selector("#gm-ogc-prev", timeout=TIMEOUT_MS)
    assert page.locator("#gm-ogc-items tbody tr td a").first.inner_text() != first
    page.locator("#gm-ogc-prev").click()
    page.wait_for_selector("#gm-ogc-items", timeout=TIMEOUT_MS)
    assert page.locator("#gm-ogc-items tbody tr td a").first.inner_text() == first


def test_a_bad_filter_page_says_where(probe: PageProbe) -> None:
    page = probe.page
    response = page.goto("/ogc/collections/buildings/items?f=html&filter=name%20%3D")
    assert response is not None and response.status == 400
    assert "column 6" in page.locator(".gm-error-message").inner_text()
    probe.console_errors.clear()  # the browser logs the 400 itself
    probe.screenshot("ogc-bad-filter")
