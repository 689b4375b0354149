"""The monthly scorecards page (考核排名) in a real browser, offline, at 1280×800 and 390×844.

The live server commits, so the test files its own four cases through the API (as the grid's
worker) in a grid that had none, this month, and looks at this month's scorecard for that
grid's community, picked by name, signed in as the district command centre of 沈河区. The
Excel workbook is a background job: the test runs it in a thread as the worker would, and the
page downloads the file when the job is done.
Screenshots go to test-artifacts/ (scorecards-*.png); look at them, passing is not enough.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.request import Request, urlopen

import openpyxl
import pytest
from e2e_support import Accounts, PageProbe, TestAccount, sign_in
from flask import Flask
from sqlalchemy import Engine, text

from gridmap.db import make_session_factory
from gridmap.jobs.services import runner
from gridmap.scorecards.services import workbooks

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
TEST_DISTRICT = "210103"
# A grid with a worker and no case yet, and a point well inside it (as the dashboard's test).
_GRID_SQL = text("""
    SELECT g.code, ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat, w.person_id AS worker_id
    FROM grid g
    CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS pt) p
    JOIN grid_member w ON w.grid_code = g.code AND w.role = 'grid_worker'
    WHERE NOT EXISTS (SELECT 1 FROM "case" k WHERE k.grid_code = g.code)
      AND NOT ST_DWithin(ST_Boundary(g.geom)::geography, p.pt::geography, 25)
      AND NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code
                      AND ST_DWithin(o.geom::geography, p.pt::geography, 25))
    ORDER BY g.code
    LIMIT 1
""")


def post_case(base_url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    request = Request(f"{base_url}/api/cases", data=json.dumps(body).encode(), method="POST",
                      headers={"Content-Type": "application/json", **headers})
    with urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status


@pytest.fixture(scope="module")
def spot(engine: Engine, live_server: str, accounts: Accounts) -> dict[str, str]:
    """A grid where this test filed four cases just now, and its community's name."""
    with engine.connect() as conn:
        row = conn.execute(_GRID_SQL).mappings().first()
        assert row is not None, "no empty grid in the test data"
        name = conn.execute(text("SELECT name FROM community WHERE code = :c"),
                            {"c": str(row["code"])[:12]}).scalar_one()
    worker = accounts.headers(accounts.create("grid_worker", person_id=int(row["worker_id"])))
    for i in range(4):
        post_case(live_server, {
            "category": "heating", "channel": "grid_patrol", "description": f"考核测试案件 {i}",
            "lon": float(row["lon"]) + i * 1e-5, "lat": float(row["lat"]), "crs": "wgs84",
            "grid_code": row["code"], "confirm_new": True,
            "client_token": f"scorecard-e2e-{uuid.uuid4()}"}, worker)
    return {"grid": str(row["code"]), "community": str(row["code"])[:12], "name": str(name)}


@pytest.fixture(scope="module")
def centre(accounts: Accounts) -> TestAccount:
    return accounts.create("district_centre", name="区指挥中心值班员", area_code=TEST_DISTRICT)


def _work_when_queued(app: Flask, engine: Engine) -> threading.Thread:
    """Run the first workbook job that appears, as the worker would."""
    media = app.extensions["gridmap.settings"].media_dir

    def work() -> None:
        for _ in range(600):
            with engine.connect() as conn:
                job_id = conn.execute(text("SELECT id FROM job WHERE kind = :k AND state = "
                                           "'queued' ORDER BY id LIMIT 1"),
                                      {"k": workbooks.KIND}).scalar()
            if job_id is not None:
                runner.run(make_session_factory(engine), workbooks.handlers(media), int(job_id),
                           heartbeat_s=3600)
                return
            threading.Event().wait(0.1)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _this_month() -> str:
    return (datetime.now(UTC) + timedelta(hours=8)).strftime("%Y-%m")


def _idle(page: object) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def _open_month_and_area(probe: PageProbe, spot: dict[str, str], centre: TestAccount) -> object:
    page = probe.page
    sign_in(page, centre, next_path="/scorecards")
    _idle(page)
    assert page.locator("h1").inner_text() == "考核排名"
    assert page.locator(".gs-tab").all_inner_texts() == ["网格", "社区", "街道", "部门"]
    page.fill("#gs-month", _this_month())
    page.fill("#gs-area", spot["name"])
    option = page.locator(f'.gm-picker-option[data-code="{spot["community"]}"]')
    option.wait_for(timeout=TIMEOUT_MS)
    option.click()  # picking loads the scorecard
    page.wait_for_function(
        "(c) => [...document.querySelectorAll('#gs-rows th')].some(t => t.title === c)",
        arg=spot["grid"], timeout=TIMEOUT_MS)
    _idle(page)
    return page


def test_desktop_scorecard_table_tabs_and_downloads(probe: PageProbe, spot: dict[str, str],
                                                    centre: TestAccount, app: Flask,
                                                    engine: Engine) -> None:
    page = _open_month_and_area(probe, spot, centre)
    head = page.locator("#gs-head th").all_inner_texts()
    assert head[:3] == ["名次", "名称", "受理案件数"] and "满意率 名次" in head
    row = page.locator("#gs-rows tr", has=page.locator(f'th[title="{spot["grid"]}"]'))
    assert row.locator("td").nth(1).inner_text().startswith("4")   # 受理案件数 4, ▲4 on last month
    assert "▲4" in row.locator("td").nth(1).inner_text()
    codes = page.locator("#gs-rows th").evaluate_all("(ths) => ths.map(t => t.title)")
    assert codes and all(code.startswith(spot["community"]) for code in codes)
    csv_href = page.get_attribute("#gs-csv", "href") or ""
    assert f"month={_this_month()}" in csv_href and f"area={spot['community']}" in csv_href
    worker = _work_when_queued(app, engine)
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.click("#gs-xlsx")  # starts the job; the page follows it, then downloads the file
        page.locator("#gs-job-outcome[data-kind='ok']").wait_for(timeout=TIMEOUT_MS)
        probe.screenshot("scorecards-desktop-workbook-done")
    worker.join(timeout=5)
    assert download.value.suggested_filename == f"scorecard-{_this_month()}.xlsx"
    assert "/api/scorecards/workbooks/" in download.value.url
    path = download.value.path()
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    assert book.sheetnames == ["网格", "社区", "街道", "部门", "指标说明"]
    grid_rows = {row[0].value: row for row in book["网格"].iter_rows(min_row=2)}
    assert spot["grid"] in grid_rows and grid_rows[spot["grid"]][2].value == 4
    assert all(str(code).startswith(spot["community"]) for code in grid_rows)
    probe.screenshot("scorecards-desktop-grid")
    page.click("#gs-tab-community")
    _idle(page)
    assert page.locator("#gs-tab-community").get_attribute("aria-selected") == "true"
    assert page.locator("#gs-rows tr").count() == 1 and page.locator("#gs-rows th").inner_text() == \
        spot["name"]
    probe.screenshot("scorecards-desktop-community")


def test_a_workbook_under_way_is_followed_after_a_reload(
        probe: PageProbe, spot: dict[str, str], centre: TestAccount, app: Flask,
        engine: Engine) -> None:
    """Reloading the page while the workbook is still queued picks the job up again: its
    progress shows, and the file is downloaded when it is done."""
    page = _open_month_and_area(probe, spot, centre)
    page.fill("#gs-month", "2020-02")  # another month: not the job of the test above
    page.click("#gs-xlsx")  # no worker yet: the job waits in the queue
    page.locator("#gs-job").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.reload()
    _idle(page)
    page.locator("#gs-job").wait_for(state="visible", timeout=TIMEOUT_MS)
    assert page.locator("#gs-xlsx").is_disabled()
    probe.screenshot("scorecards-desktop-workbook-queued")
    worker = _work_when_queued(app, engine)
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        worker.join(timeout=TIMEOUT_MS / 1000)
    assert download.value.suggested_filename == "scorecard-2020-02.xlsx"
    page.locator("#gs-job-outcome[data-kind='ok']").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gs-xlsx").is_enabled()


def test_phone_scorecard(phone_probe: PageProbe, spot: dict[str, str],
                         centre: TestAccount) -> None:
    page = _open_month_and_area(phone_probe, spot, centre)
    assert page.locator(".gs-tab").first.is_visible()
    name = page.locator(f'#gs-rows th[title="{spot["grid"]}"]')
    assert name.is_visible()  # a table on the phone too (scrolled sideways), never hidden
    page.locator("#gs-panel").scroll_into_view_if_needed()
    phone_probe.screenshot("scorecards-phone-grid")


def test_english_page(probe: PageProbe, spot: dict[str, str], centre: TestAccount) -> None:
    page = probe.page
    sign_in(page, centre, next_path="/scorecards?lang=en")
    _idle(page)
    assert page.locator("h1").inner_text() == "Scorecards"
    assert page.locator("#gs-head th").nth(2).inner_text() == "Cases received"
    probe.screenshot("scorecards-desktop-en")
