"""Counts of vulnerable residents are public only per grid, and small ones are hidden (issue 8).

The buildings layer is public; a building's count of elderly people living alone or aged 80+ can
point at one household, so those counts appear only as grid totals, and a total under 5 is not
published (null, so the property keeps one numeric type for GIS tools; pages show it as "<5").
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, text

VULNERABLE = ("aged_80_plus", "elderly_living_alone")


def _features(client: Any, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200
    return list(json.loads(response.data)["features"])


def test_buildings_layer_has_no_per_building_vulnerable_counts(
        client: Any, grids: list[dict[str, Any]]) -> None:
    features = _features(client, f"/api/layers/buildings.geojson?community={grids[0]['community_code']}")
    assert features
    for feature in features:
        assert not set(VULNERABLE) & set(feature["properties"])
    assert all("aged_60_plus" in f["properties"] for f in features)  # coverage planning needs it


def test_grid_totals_match_the_buildings_with_small_counts_hidden(client: Any, engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT g.code, g.community_code,
                   coalesce(sum(b.aged_80_plus), 0) AS aged_80_plus,
                   coalesce(sum(b.elderly_living_alone), 0) AS elderly_living_alone
            FROM grid g LEFT JOIN building b ON b.grid_code = g.code
            WHERE g.community_code = (SELECT community_code FROM grid g2
                                      JOIN building b2 ON b2.grid_code = g2.code
                                      GROUP BY g2.code HAVING sum(b2.elderly_living_alone) < 5
                                      ORDER BY g2.code LIMIT 1)
            GROUP BY g.code, g.community_code ORDER BY g.code""")).mappings().all()
    assert rows, "the test data must hold a grid with fewer than 5 elderly living alone"
    features = _features(client, f"/api/layers/grids.geojson?community={rows[0]['community_code']}")
    published = {f["properties"]["code"]: f["properties"] for f in features}
    assert set(published) == {r["code"] for r in rows}
    shown_small = 0
    for row in rows:
        for key in VULNERABLE:
            expected = row[key] if row[key] >= 5 else None
            assert published[row["code"]][key] == expected, (row["code"], key)
            shown_small += expected is None
    assert shown_small, "at least one small count was hidden"
