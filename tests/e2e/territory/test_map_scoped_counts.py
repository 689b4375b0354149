"""The map for a grid worker who signed in: the nearest building's counts of vulnerable
residents show in their own grid's popup, never in the public's (a real browser, the real
/login form, the 沈河区 demo data)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import open_probe
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def worker(engine: Engine) -> Iterator[tuple[Account, dict[str, Any]]]:
    """A committed account of a demo grid worker, and a point in their grid with its counts."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT g.code, m.person_id, ST_X(ST_PointOnSurface(g.geom)) AS lon, "
            "ST_Y(ST_PointOnSurface(g.geom)) AS lat FROM grid g "
            "JOIN grid_member m ON m.grid_code = g.code AND m.role = 'grid_worker' "
            "WHERE EXISTS (SELECT 1 FROM building b WHERE b.grid_code = g.code) "
            "ORDER BY g.code LIMIT 1")).mappings().one()
    account = make_account(engine, "grid_worker", person_id=int(row["person_id"]))
    yield account, dict(row)
    remove_accounts(engine, [account])


def _popup_text(page: Any, lon: float, lat: float) -> str:
    page.wait_for_function("() => window.gridmap && window.gridmap.layers.length > 0",
                           timeout=TIMEOUT_MS)
    page.evaluate("([lat, lon]) => { window.gridmap.map.setView([lat, lon], 17, "
                  "{animate: false}); }", [lat, lon])
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    box = page.locator("#map").bounding_box()
    point = page.evaluate("([lat, lon]) => window.gridmap.map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".leaflet-popup .gm-location")
    popup.wait_for(timeout=TIMEOUT_MS)
    page.locator(".leaflet-popup .gm-location .gm-kv").wait_for(timeout=TIMEOUT_MS)
    return str(popup.inner_text())


def test_a_grid_worker_sees_their_buildings_counts_the_public_does_not(
        browser: Any, live_server: str, worker: tuple[Account, dict[str, Any]]) -> None:
    account, grid = worker
    with open_probe(browser, live_server) as public:
        public.page.goto("/")
        shown = _popup_text(public.page, grid["lon"], grid["lat"])
        assert grid["code"] in shown and "80岁以上" not in shown and "独居老人" not in shown
    with open_probe(browser, live_server, viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True) as mine:
        sign_in(mine.page, account)
        shown = _popup_text(mine.page, grid["lon"], grid["lat"])
        assert grid["code"] in shown and "80岁以上" in shown and "独居老人" in shown
        mine.screenshot("map-grid-worker-counts")
