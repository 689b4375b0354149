"""The API docs page draws the OpenAPI document with the local Swagger UI: offline (the probe
fails on any request off this host), under the site's CSP (no console errors)."""

from __future__ import annotations

from e2e_support import PageProbe

TIMEOUT_MS = 20_000


def test_the_docs_page_lists_the_operations(probe: PageProbe) -> None:
    page = probe.page
    page.goto("/api/docs")
    page.locator(".opblock").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".opblock").count() > 80
    assert "gridmap HTTP API" in page.locator(".info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/api/layers/{name}.geojson").first.click()
    page.locator(".parameters-col_name", has_text="bbox").first.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("api-docs")
