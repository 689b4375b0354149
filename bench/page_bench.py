"""Map page weight and load time at city scale, in headless Chromium (Debian's, via Playwright).

Usage (after `make setup`):  .venv/bin/python bench/page_bench.py
Serves the app with gunicorn on the city-scale benchmark database (see locate_bench.py, which
loads it) and opens the map at three views: the initial city view, a community view (zoom 14:
grids, streets, facilities) and a street view (zoom 17: buildings too). For each it reports the
bytes transferred (static vs API), the number of requests, the largest API response and the
time until every layer has its data. Every non-loopback request is blocked.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from bench.server import gunicorn  # noqa: E402
from gridmap.config import Settings  # noqa: E402

PORT = 5098
VIEWS = [("initial: the whole city, zoom 8", None),
         ("communities, zoom 13 (大东区)", (41.805, 123.475, 13)),
         ("grids and streets, zoom 15 (大东区)", (41.805, 123.475, 15)),
         ("buildings, zoom 17 (沈河区)", (41.790, 123.445, 17))]


def measure(page, view) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Bytes and requests (Resource Timing API) until the map is idle after showing ``view``."""
    t0 = time.perf_counter()
    if view is None:
        page.goto(f"http://127.0.0.1:{PORT}/", wait_until="load")
    else:
        page.evaluate("performance.clearResourceTimings()")
        # The arrow returns nothing: Playwright would try to serialise the Leaflet map.
        page.evaluate("([lat, lon, z]) => { window.gridmap.map.setView([lat, lon], z); }",
                      list(view))
        page.wait_for_timeout(50)
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=60_000)
    elapsed = time.perf_counter() - t0
    entries = page.evaluate("""() => performance.getEntriesByType('resource')
        .map(e => [e.name, e.encodedBodySize, e.transferSize])""")
    html = page.evaluate("performance.getEntriesByType('navigation').map(e => e.encodedBodySize)")
    api = [size for name, size, _ in entries if "/api/" in name]
    static = [size for name, size, _ in entries if "/api/" not in name]
    static += html if view is None else []
    return {"seconds": elapsed, "requests": len(entries) + (view is None),
            "api_kb": sum(api) / 1024, "static_kb": sum(static) / 1024,
            "largest_api_kb": max(api, default=0) / 1024}


def main() -> None:
    url = ensure_bench_db(Settings.from_env().database_url, "city")
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    rows = []
    with gunicorn(PORT, env), sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith(f"http://127.0.0.1:{PORT}/")
                   else route.abort())
        for name, view in VIEWS:
            rows.append((name, measure(page, view)))
        browser.close()
    print("| view | time to all layers loaded (s) | requests | static KB | API KB | largest API KB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['seconds']:.2f} | {r['requests']:.0f} | {r['static_kb']:.0f} | "
              f"{r['api_kb']:.0f} | {r['largest_api_kb']:.0f} |")


if __name__ == "__main__":
    main()
