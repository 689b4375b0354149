"""Editing facilities on the map in Chromium (Leaflet-Geoman): a data officer adds one by
placing a marker, renames one by clicking it, and retires it; each save reaches the database
and the list of recent changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import open_probe
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 30_000


@pytest.fixture
def officer(engine: Engine) -> Iterator[Account]:
    account = make_account(engine, "data_officer", area_code="210103")
    yield account
    remove_accounts(engine, [account])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM data_change WHERE changed_by = :u"),
                     {"u": account.username})


def _idle(page: Any) -> None:
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def test_add_rename_and_retire_a_facility_on_the_map(browser: Any, live_server: str,
                                                     officer: Account, engine: Engine) -> None:
    with engine.connect() as conn:
        x, y = conn.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), "
                                 "ST_Y(ST_PointOnSurface(geom)) FROM community "
                                 "ORDER BY code LIMIT 1")).one()
    added_code = None
    try:
        with open_probe(browser, live_server) as probe:
            page = probe.page
            page.on("dialog", lambda dialog: dialog.accept())
            sign_in(page, officer, next_path="/data/edit")
            _idle(page)
            page.evaluate("([lat, lon]) => window.gridmap.map.setView([lat, lon], 17, "
                          "{animate: false})", [y, x])
            page.wait_for_timeout(400)
            _idle(page)
            # Add: the marker tool, then a click on the map's centre.
            page.locator(".leaflet-pm-icon-marker").click()
            box = page.locator("#gdx-edit-map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.locator("#gdx-f-form:not([hidden])").wait_for(timeout=TIMEOUT_MS)
            page.locator("#gdx-f-type").select_option("pocket_park")
            page.locator("#gdx-f-name").fill("测试口袋公园")
            page.locator("#gdx-f-save").click()
            page.wait_for_function("() => document.getElementById('gdx-f-status').dataset.kind"
                                   " === 'ok'", timeout=TIMEOUT_MS)
            with engine.connect() as conn:
                added_code = conn.execute(text("SELECT code FROM facility WHERE name = "
                                               "'测试口袋公园'")).scalar_one()
            probe.screenshot("edit-facility-added")
            # Rename: click the new marker, change the name, save.
            page.locator(".gdx-marker[title='测试口袋公园']").click()
            page.locator("#gdx-f-name").fill("改名口袋公园")
            page.locator("#gdx-f-save").click()
            page.wait_for_function("() => document.querySelector("
                                   "\".gdx-marker[title='改名口袋公园']\")", timeout=TIMEOUT_MS)
            # Retire it (the page asks first; the test accepts).
            page.locator(".gdx-marker[title='改名口袋公园']").click()
            page.locator("#gdx-f-retire").click()
            page.wait_for_function("() => document.getElementById('gdx-f-status').textContent"
                                   ".startsWith('已撤销')", timeout=TIMEOUT_MS)
            page.wait_for_function("() => document.querySelectorAll('#gdx-history li').length"
                                   " >= 3", timeout=TIMEOUT_MS)
            assert "撤销" in page.locator("#gdx-history li").first.inner_text()
            probe.screenshot("edit-facility-history")
        with engine.connect() as conn:
            ops = conn.execute(text("SELECT op FROM data_change WHERE code = :c ORDER BY id"),
                               {"c": added_code}).scalars().all()
            assert ops == ["add", "update", "retire"]
            assert conn.execute(text("SELECT count(*) FROM facility WHERE code = :c"),
                                {"c": added_code}).scalar_one() == 0
    finally:
        if added_code:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM facility WHERE code = :c"), {"c": added_code})


def test_two_grids_reshaped_on_the_map_are_saved_together(browser: Any, live_server: str,
                                                          officer: Account,
                                                          engine: Engine) -> None:
    import shapely

    with engine.connect() as conn:
        a, b, ga, gb = conn.execute(text("""
            SELECT a.code, b.code, ST_AsText(a.geom), ST_AsText(b.geom) FROM grid a JOIN grid b
              ON a.community_code = b.community_code AND a.code < b.code
             AND ST_Relate(a.geom, b.geom, 'F***1****')
             AND ST_Length(ST_Intersection(a.geom, b.geom)::geography) > 50
             AND ST_GeometryType(ST_Union(a.geom, b.geom)) = 'ST_Polygon'
            ORDER BY a.code LIMIT 1""")).one()
        before = conn.execute(text("SELECT code, ST_AsText(geom), valid_from FROM grid "
                                   "WHERE code IN (:a, :b)"), {"a": a, "b": b}).all()
    ga, gb = shapely.from_wkt(ga), shapely.from_wkt(gb)
    slice_ = gb.intersection(ga.buffer(0.0004, join_style="mitre"))
    new_a = shapely.union(ga, slice_)
    new_b = gb.difference(slice_)
    new_b = max(getattr(new_b, "geoms", [new_b]), key=lambda g: g.area)
    assert new_a.is_valid and new_b.is_valid and not new_a.interiors and not new_b.interiors
    rings = {code: [[y, x] for x, y in shape.exterior.coords[:-1]]
             for code, shape in ((a, new_a), (b, new_b))}
    try:
        with open_probe(browser, live_server) as probe:
            page = probe.page
            sign_in(page, officer, next_path="/data/edit")
            _idle(page)
            centre = ga.centroid
            page.evaluate("([lat, lon]) => window.gridmap.map.setView([lat, lon], 16, "
                          "{animate: false})", [centre.y, centre.x])
            page.wait_for_timeout(400)
            _idle(page)
            page.locator("#gdx-g-edit").click()
            _idle(page)
            # What dragging the shared edge's vertices does, for both grids (Geoman's event).
            changed = page.evaluate("""(rings) => {
                let n = 0;
                window.gridmap.map.eachLayer((layer) => {
                  const props = layer.feature && layer.feature.properties;
                  const code = props && props.code;
                  const editable = layer.pm && layer.pm.enabled && layer.pm.enabled();
                  if (editable && layer.setLatLngs && rings[code]) {
                    layer.setLatLngs([rings[code]]);
                    layer.fire("pm:edit");
                    n += 1;
                  }
                });
                return n;
            }""", rings)
            assert changed == 2
            assert "已修改 2 个网格" in page.locator("#gdx-g-status").inner_text()
            page.locator("#gdx-g-save").click()
            page.wait_for_function("() => document.getElementById('gdx-g-status').dataset.kind",
                                   timeout=TIMEOUT_MS)
            assert page.locator("#gdx-g-status").get_attribute("data-kind") == "ok", \
                page.locator("#gdx-g-status").inner_text()
            probe.screenshot("edit-grids-saved")
        with engine.connect() as conn:
            stored = shapely.from_wkt(conn.execute(text(
                "SELECT ST_AsText(geom) FROM grid WHERE code = :a"), {"a": a}).scalar_one())
            assert stored.area > ga.area and stored.difference(new_a).area < 1e-10
            assert conn.execute(text("SELECT count(*) FROM grid_history WHERE code IN (:a, :b)"),
                                {"a": a, "b": b}).scalar_one() == 2
    finally:
        with engine.begin() as conn:  # the grids as they were, for the tests after this one
            for code, wkt, valid_from in before:
                conn.execute(text("UPDATE grid SET geom = ST_GeomFromText(:w, 4326), "
                                  "valid_from = :v WHERE code = :c"),
                             {"w": wkt, "v": valid_from, "c": code})
            conn.execute(text("DELETE FROM grid_history WHERE code IN (:a, :b)"), {"a": a, "b": b})
            conn.execute(text("""
                UPDATE building bl SET grid_code = g.code FROM grid g
                WHERE g.community_code = :c AND left(bl.grid_code, 12) = :c
                  AND ST_Contains(g.geom, ST_PointOnSurface(bl.geom)) AND bl.grid_code <> g.code"""),
                         {"c": a[:12]})


def _fire_click(page: Any, code: str) -> None:
    """Click a grid's polygon among those the page edits (Leaflet's event on the layer: a
    facility marker or the base map's outline may lie on top)."""
    fired = page.evaluate("""(code) => {
        let n = 0;
        window.gridmap.editedGrids.eachLayer((layer) => {
          if (layer.feature.properties.code === code) { layer.fire("click"); n += 1; }
        });
        return n;
    }""", code)
    assert fired == 1, (code, fired)


def _wait_status(page: Any) -> str:
    page.wait_for_function("() => document.getElementById('gdx-g-status').dataset.kind",
                           timeout=TIMEOUT_MS)
    kind = page.locator("#gdx-g-status").get_attribute("data-kind")
    text = page.locator("#gdx-g-status").inner_text()
    assert kind == "ok", text
    page.evaluate("() => { document.getElementById('gdx-g-status').dataset.kind = ''; }")
    return str(text)


def test_a_grid_split_along_a_drawn_line_and_merged_back(browser: Any, live_server: str,
                                                         officer: Account,
                                                         engine: Engine) -> None:
    """Split with real clicks drawing the line (Geoman's line tool), then merge the two parts
    by selecting them: the grid is whole again, with its code; the history has both steps."""
    import shapely

    with engine.connect() as conn:
        code, wkt, valid_from = conn.execute(text("""
            SELECT g.code, ST_AsText(g.geom), g.valid_from FROM grid g
            WHERE g.code LIKE '210103%' AND ST_Area(g.geom::geography) > 20000
              AND EXISTS (SELECT 1 FROM building b WHERE b.grid_code = g.code)
            ORDER BY g.code LIMIT 1""")).one()
    shape = shapely.from_wkt(wkt)
    minx, miny, maxx, maxy = shape.bounds
    middle = (minx + maxx) / 2
    new_code = None
    try:
        with open_probe(browser, live_server) as probe:
            page = probe.page
            page.on("dialog", lambda dialog: dialog.accept())
            sign_in(page, officer, next_path="/data/edit")
            _idle(page)
            page.evaluate("([s, w, n, e]) => window.gridmap.map.fitBounds([[s, w], [n, e]], "
                          "{padding: [60, 60], animate: false})", [miny, minx, maxy, maxx])
            page.wait_for_timeout(400)
            _idle(page)
            page.locator("#gdx-g-split").click()
            _idle(page)
            _fire_click(page, code)
            assert "画一条" in page.locator("#gdx-g-status").inner_text()
            box = page.locator("#gdx-edit-map").bounding_box()
            points = [page.evaluate("([lat, lon]) => { const p = window.gridmap.map"
                                    ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
                                    [lat, middle]) for lat in (maxy + (maxy - miny) * 0.1,
                                                              miny - (maxy - miny) * 0.1)]
            for x, y in [*points, points[-1]]:  # the last point clicked again ends the line
                page.mouse.click(box["x"] + x, box["y"] + y)
                page.wait_for_timeout(150)
            text_ = _wait_status(page)
            _idle(page)
            probe.screenshot("edit-grid-split")
            with engine.connect() as conn:
                new_code = conn.execute(text(
                    "SELECT code FROM data_change WHERE op = 'add' AND layer = 'grids' "
                    "AND after ->> 'split_from' = :c ORDER BY id DESC LIMIT 1"),
                    {"c": code}).scalar_one()
                parts = [shapely.from_wkt(w) for w in conn.execute(text(
                    "SELECT ST_AsText(geom) FROM grid WHERE code IN (:a, :b)"),
                    {"a": code, "b": new_code}).scalars()]
            assert new_code in text_ and len(parts) == 2
            assert abs(sum(p.area for p in parts) - shape.area) < shape.area * 1e-9
            page.locator("#gdx-g-merge").click()
            _idle(page)
            _fire_click(page, code)
            _fire_click(page, new_code)
            assert "已选 2 个网格" in page.locator("#gdx-g-status").inner_text()
            page.locator("#gdx-g-merge-go").click()
            assert "已合并 2 个网格" in _wait_status(page)
            _idle(page)
            history = page.locator("#gdx-history").inner_text()
            assert "合并网格" in history and "分割网格" in history and "新网格" in history
            probe.screenshot("edit-grid-merged")
        with engine.connect() as conn:
            merged = shapely.from_wkt(conn.execute(text(
                "SELECT ST_AsText(geom) FROM grid WHERE code = :c"), {"c": code}).scalar_one())
            assert merged.symmetric_difference(shape).area < shape.area * 1e-9
            assert conn.execute(text("SELECT count(*) FROM grid WHERE code = :c"),
                                {"c": new_code}).scalar_one() == 0
            assert conn.execute(text("SELECT reason, successor FROM grid_history "
                                     "WHERE code = :c"), {"c": new_code}).one() == ("merge", code)
            assert sorted(conn.execute(text("SELECT reason FROM grid_history WHERE code = :c"),
                                       {"c": code}).scalars()) == ["merge", "split"]
    finally:
        with engine.begin() as conn:  # the grid as it was, for the tests after this one
            if new_code is not None:
                conn.execute(text("DELETE FROM grid_enrollment WHERE grid_code = :n"),
                             {"n": new_code})
                conn.execute(text("UPDATE building SET grid_code = :c WHERE grid_code = :n"),
                             {"c": code, "n": new_code})
                conn.execute(text("DELETE FROM grid WHERE code = :n"), {"n": new_code})
            conn.execute(text("UPDATE grid SET geom = ST_GeomFromText(:w, 4326), "
                              "valid_from = :v WHERE code = :c"),
                         {"w": wkt, "v": valid_from, "c": code})
            conn.execute(text("DELETE FROM grid_history WHERE code IN (:a, :b)"),
                         {"a": code, "b": new_code or code})
            conn.execute(text("""
                UPDATE building bl SET grid_code = g.code FROM grid g
                WHERE g.community_code = :c AND left(bl.grid_code, 12) = :c
                  AND ST_Contains(g.geom, ST_PointOnSurface(bl.geom)) AND bl.grid_code <> g.code"""),
                         {"c": code[:12]})


def test_a_refused_reshape_shows_where_on_the_map(browser: Any, live_server: str,
                                                 officer: Account, engine: Engine) -> None:
    """A grid pulled in from its neighbours leaves a gap: refused, the gap drawn in red, and
    nothing saved."""
    import shapely

    with engine.connect() as conn:
        code, wkt = conn.execute(text("""
            SELECT code, ST_AsText(geom) FROM grid WHERE code LIKE '210103%'
              AND ST_Area(geom::geography) > 20000 ORDER BY code DESC LIMIT 1""")).one()
    shape = shapely.from_wkt(wkt)
    shrunk = shape.buffer(-0.0003, join_style="mitre")
    ring = [[y, x] for x, y in shrunk.exterior.coords[:-1]]
    with open_probe(browser, live_server) as probe:
        page = probe.page
        sign_in(page, officer, next_path="/data/edit")
        _idle(page)
        minx, miny, maxx, maxy = shape.bounds
        page.evaluate("([s, w, n, e]) => window.gridmap.map.fitBounds([[s, w], [n, e]], "
                      "{padding: [60, 60], animate: false})", [miny, minx, maxy, maxx])
        page.wait_for_timeout(400)
        _idle(page)
        page.locator("#gdx-g-edit").click()
        _idle(page)
        changed = page.evaluate("""([code, ring]) => {
            let n = 0;
            window.gridmap.editedGrids.eachLayer((layer) => {
              if (layer.feature.properties.code === code) {
                layer.setLatLngs([ring]); layer.fire("pm:edit"); n += 1;
              }
            });
            return n;
        }""", [code, ring])
        assert changed == 1
        page.locator("#gdx-g-save").click()
        page.wait_for_function("() => document.getElementById('gdx-g-status').dataset.kind",
                               timeout=TIMEOUT_MS)
        assert page.locator("#gdx-g-status").get_attribute("data-kind") == "error"
        assert "不属于任何网格" in page.locator("#gdx-g-status").inner_text()
        page.wait_for_selector("path[stroke='#d00']", timeout=TIMEOUT_MS)
        probe.screenshot("edit-grid-refused")
        # The refusal itself is the one error the browser logs (the 422 answer).
        probe.console_errors[:] = [e for e in probe.console_errors if "422" not in e]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ST_AsText(geom) FROM grid WHERE code = :c"),
                            {"c": code}).scalar_one() == wkt
