"""The offline coverage map opens in Chromium with every network request refused and draws its
layers (issue 13, planners' reports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_sample import sample_report

from gridmap.reports import html_map

NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"


def test_the_map_draws_its_layers_with_the_network_blocked(browser: Any, tmp_path: Path) -> None:
    page_html = html_map.build(sample_report(), assets_dir=NODE_MODULES)
    assert html_map.external_links(page_html) == []
    path = tmp_path / "report.html"
    path.write_text(page_html, "utf-8")
    url = path.as_uri()
    context = browser.new_context()
    refused: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    try:
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector(".leaflet-overlay-pane svg path")
        paths = page.locator(".leaflet-overlay-pane svg path").count()
        labels = page.locator(".leaflet-marker-pane .gm-area-label").all_inner_texts()
        legend = page.locator(".gm-legend").inner_text()
        page.screenshot(path=str(tmp_path / "report.png"))
    finally:
        context.close()
    # 2 community outlines + 6 buildings + 2 facilities + 1 suggested site
    assert paths == 11
    assert labels == ["文艺路社区", "万柳塘社区"]
    assert "未覆盖" in legend and "养老服务设施" in legend
    assert refused == [] and errors == []
