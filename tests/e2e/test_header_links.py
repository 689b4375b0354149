"""The header in a real browser: however many page links a role has, the header stays one row
at 1280 px; the links that do not fit scroll sideways (a mouse wheel scrolls them too) and the
row's end fades only while there is more to see."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import Accounts, PageProbe, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def district(engine: Engine, accounts: Accounts) -> Any:
    """A district centre: the role with the most page links."""
    with engine.connect() as conn:
        code = conn.execute(text("SELECT min(code) FROM district WHERE code IN "
                                 "(SELECT left(code, 6) FROM grid)")).scalar_one()
    return accounts.create("district_centre", name="端到端区中心", area_code=code)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_header_stays_one_row_and_its_links_scroll(probe: PageProbe, district: Any,
                                                       lang: str) -> None:
    page = probe.page
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, district)
    page.goto(f"/cases?lang={lang}")
    header = page.locator(".gm-header").bounding_box()
    assert header is not None and header["height"] <= 60, header
    nav = page.locator(".gm-nav")
    widths = nav.evaluate("n => [n.scrollWidth, n.clientWidth]")
    if widths[0] <= widths[1]:  # everything fits: no fade
        assert "gm-nav-overflows" not in (nav.get_attribute("class") or "")
        return
    assert "gm-nav-overflows" in (nav.get_attribute("class") or "")
    box = nav.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(10):
        page.mouse.wheel(0, 300)
    page.wait_for_function("() => { const n = document.querySelector('.gm-nav'); "
                           "return n.scrollLeft + n.clientWidth >= n.scrollWidth - 1; }")
    page.wait_for_function("() => !document.querySelector('.gm-nav')"
                           ".classList.contains('gm-nav-overflows')")
    last = page.locator(".gm-nav a").last.bounding_box()
    assert last is not None and last["x"] + last["width"] <= box["x"] + box["width"] + 1
    probe.screenshot(f"header-scrolled-{lang}")
