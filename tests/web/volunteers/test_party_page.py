"""The Party map opens on a district that has a Party organisation: the reader's own, else,
for the public, the district with most branches (the first district of the list, 和平区, may
have none loaded: the test database holds 沈河区 only)."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Connection, text


def _opening(html: str) -> str:
    found = re.search(r'id="gm-page-config">(.*?)</script>', html, re.S)
    assert found
    return str(json.loads(found.group(1))["area"])


def test_the_map_opens_on_a_district_with_branches_or_the_readers_own(api: Any, tx: Connection,
                                                                      login: Any) -> None:
    community = tx.execute(text("SELECT min(code) FROM community")).scalar_one()
    tx.execute(text("DELETE FROM party_branch_grid"))
    tx.execute(text("DELETE FROM party_branch"))
    assert _opening(api.get("/party").get_data(as_text=True)) == ""  # none: the list's first
    tx.execute(text("INSERT INTO party_branch (community_code, name) VALUES (:c, '测试支部')"),
               {"c": community})
    assert _opening(api.get("/party").get_data(as_text=True)) == community[:6]
    staff = login("district_centre", area="210104")
    assert _opening(api.get("/party", headers=staff).get_data(as_text=True)) == "210104"
