"""The "两邻" pages (issue 13) on a phone in a real browser, in both languages: none is wider
than the screen (a wide table or map once made the phone zoom the whole page out)."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import Accounts, PageProbe, sign_in
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def people(engine: Engine, accounts: Accounts) -> dict[str, Any]:
    """A grid worker and the community staff over their grid."""
    with engine.connect() as conn:
        grid, worker = conn.execute(text(
            "SELECT m.grid_code, m.person_id FROM grid_member m LEFT JOIN account a "
            "ON a.person_id = m.person_id WHERE m.role = 'grid_worker' AND a.id IS NULL "
            "ORDER BY m.grid_code DESC LIMIT 1")).one()
    return {"grid": grid,
            "worker": accounts.create("grid_worker", person_id=worker),
            "community": accounts.create("community_staff", name="端到端社区",
                                         area_code=grid[:12])}


def _fits(page: Any) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width == [390, 390], f"{page.url} is {width[0]} px wide, the screen {width[1]} px"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pages_fit_a_phone(phone_probe: PageProbe, people: dict[str, Any],
                               lang: str) -> None:
    page = phone_probe.page
    sign_in(page, people["community"])
    for path in ("/care", f"/care/grids/{people['grid']}/month", "/volunteers", "/mediation",
                 "/inbox", "/party", "/scorecards", "/account"):
        page.goto(f"{path}?lang={lang}")
        page.wait_for_load_state("networkidle")
        _fits(page)
    phone_probe.screenshot(f"lianlin-phone-account-{lang}")
    page.goto(f"/care?lang={lang}")
    page.wait_for_load_state("networkidle")
    phone_probe.screenshot(f"lianlin-phone-care-{lang}")
