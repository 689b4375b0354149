"""The city-scale map over 沈河区, before and after vector tiles: time to every layer drawn.

"Before" is the checkout at ``--before`` (the main branch: GeoJSON layers, buildings from zoom
16, at most 5,000 features a layer per view); "after" is this checkout (grids, buildings and
streets as vector tiles). Each is served by ``gridmap serve`` (2 workers) on the same read-only
database, and opened in headless Chromium (1280x800, a new browser context each time: no HTTP
cache); the map is moved to zoom 15 and 16 over the centre of 沈河区 and timed until every
layer has drawn its data (``window.gridmap.isIdle()``, then two animation frames).

    set -a; source .gridmap/env; set +a
    .venv/bin/python bench/tiles_map_bench.py --before /work/main  # the DB: see tiles_bench.py
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = "210103"  # 沈河区

TIMED = """async ([lat, lon, zoom]) => {
  const t0 = performance.now();
  window.gridmap.map.setView([lat, lon], zoom, {animate: false});
  await new Promise((done) => {
    const tick = () => (window.gridmap.isIdle() ? done() : setTimeout(tick, 10));
    setTimeout(tick, 10);
  });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const drawn = window.gridmap.drawnFeatures ? window.gridmap.drawnFeatures("buildings") : null;
  const svg = document.querySelectorAll(".leaflet-gm-buildings-pane path").length;
  return [performance.now() - t0, drawn === null ? svg : drawn];
}"""


@contextmanager
def serve(tree: Path, port: int, db_url: str) -> Iterator[str]:
    """``gridmap serve`` of the checkout at ``tree`` (its code, its node_modules)."""
    env = {**os.environ, "GRIDMAP_DATABASE_URL": db_url, "PYTHONPATH": str(tree),
           "GRIDMAP_ASSETS_DIR": str(tree / "node_modules")}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gridmap")), "serve", "--port",
                             str(port), "--workers", "2", "--no-jobs"], env=env, cwd=tree,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


def centre(db_url: str) -> tuple[float, float]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointOnSurface(geom) p "
                           "FROM district WHERE code = %s) d", (DISTRICT,)).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def measure(browser: Any, base: str, where: tuple[float, float], zoom: int) -> tuple[float, int]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    page = context.new_page()
    page.goto("/")
    page.wait_for_function("() => window.gridmap && window.gridmap.layers.length > 0 && "
                           "window.gridmap.isIdle()", timeout=60_000)
    elapsed, drawn = page.evaluate(TIMED, [where[0], where[1], zoom])
    context.close()
    return float(elapsed), int(drawn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="gridmap_tiles_bench")
    parser.add_argument("--before", type=Path, default=Path("/work/main"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db_url = os.environ["GRIDMAP_DATABASE_URL"].rsplit("/", 1)[0] + "/" + args.db
    where = centre(db_url)
    print(f"db={args.db}, map at the centre of 沈河区 {where}, 1280x800, {args.runs} runs "
          "(new browser context each)")
    print("| map | zoom | time to every layer drawn, ms (runs) | buildings drawn |")
    print("|---|---:|---|---:|")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--disable-gpu"])
        for label, tree, port in (("before (GeoJSON)", args.before, 8094),
                                  ("after (vector tiles)", ROOT, 8095)):
            with serve(tree, port, db_url) as base:
                for zoom in (15, 16):
                    runs = [measure(browser, base, where, zoom) for _ in range(args.runs)]
                    times = ", ".join(f"{t:.0f}" for t, _ in runs)
                    print(f"| {label} | {zoom} | median {statistics.median(t for t, _ in runs):.0f}"
                          f" ({times}) | {runs[-1][1]} |")
        browser.close()


if __name__ == "__main__":
    main()
