"""The API docs page draws the OpenAPI document with the local Swagger UI: offline (the probe
fails on any request off this host), under the site's CSP (no console errors).

Swagger UI (5.3x) draws a long document lazily, only the operations near the viewport, so
the test scrolls through the page and collects what was drawn on the way."""

from __future__ import annotations

from e2e_support import PageProbe

TIMEOUT_MS = 20_000
_DRAWN = """() => Array.from(document.querySelectorAll('.opblock')).map(
    b => b.querySelector('.opblock-summary-method').textContent + ' ' +
         b.querySelector('.opblock-summary-path').getAttribute('data-path'))"""
_OPERATIONS = """() => fetch('/api/openapi.json').then(r => r.json()).then(d =>
    Object.entries(d.paths).flatMap(([p, ops]) => Object.keys(ops).filter(
      m => ['get', 'put', 'post', 'delete', 'patch'].includes(m)).map(
      m => m.toUpperCase() + ' ' + p)))"""


def test_the_docs_page_lists_the_operations(probe: PageProbe) -> None:
    page = probe.page
    page.goto("/api/docs")
    page.locator(".opblock").first.wait_for(timeout=TIMEOUT_MS)
    assert "gridmap HTTP API" in page.locator(".info .title").inner_text()
    documented = set(page.evaluate(_OPERATIONS))
    assert len(documented) > 80
    drawn: set[str] = set()
    for _ in range(200):  # scroll down a screen at a time until the end of the page
        drawn.update(page.evaluate(_DRAWN))
        at_end = page.evaluate("() => { const before = window.scrollY; "
                               "window.scrollBy(0, window.innerHeight * 0.8); "
                               "return window.scrollY === before; }")
        if at_end:
            break
        page.wait_for_timeout(50)
    drawn.update(page.evaluate(_DRAWN))
    assert drawn == documented

    # An operation opens with its parameters (scrolled to from the top, as a reader would).
    page.evaluate("() => window.scrollTo(0, 0)")
    layers = page.locator(".opblock-summary-path[data-path='/api/layers/{name}.geojson']")
    for _ in range(200):
        if layers.count():
            break
        page.evaluate("() => window.scrollBy(0, window.innerHeight * 0.8)")
        page.wait_for_timeout(50)
    layers.first.click()
    page.locator(".parameters-col_name", has_text="bbox").first.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("api-docs")
