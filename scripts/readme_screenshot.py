"""Regenerate docs/map.png, the README's screenshot, from a running `make demo` server.

Usage: .venv/bin/python scripts/readme_screenshot.py [http://127.0.0.1:5000]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "map.png"
VIEW = (41.7985, 123.4530, 16)  # 沈河区, a few grids with buildings and facilities


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base)
                   else r.abort())
        page.goto(base + "/")
        page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()")
        page.evaluate("([lat, lon, z]) => { window.gridmap.map.setView([lat, lon], z,"
                      " {animate: false}); }", list(VIEW))
        page.wait_for_timeout(300)
        page.wait_for_function("() => window.gridmap.isIdle()")
        page.mouse.click(560, 470)
        page.locator(".leaflet-popup .gm-location").wait_for()
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT))
        browser.close()


if __name__ == "__main__":
    main()
