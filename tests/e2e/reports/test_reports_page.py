"""The coverage reports page in a real browser: a planner asks for a report of a community,
follows the job (run here in-process, as the worker would), and downloads the PDF from the list.

A 15-minute run of the elder-care stations is computed and committed for the module and deleted
afterwards with the report jobs made here. Screenshot: test-artifacts/reports-page.png.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from e2e_support import PageProbe
from flask import Flask
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory
from gridmap.jobs.services import runner
from gridmap.reports.services import jobs as report_jobs

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000
TYPE, CIRCLE = "elder_care_station", "15min"


@pytest.fixture(scope="module")
def community(engine: Engine, app: Flask) -> Iterator[tuple[str, str]]:
    """A committed run; yields the code and name of the community with most uncovered elderly."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    with engine.connect() as conn:
        code, name = conn.execute(text(
            "SELECT a.code, c.name FROM coverage_area a JOIN community c ON c.code = a.code "
            "WHERE a.run_id = :r AND a.level = 'community' "
            "ORDER BY a.elderly - a.elderly_covered DESC, a.code LIMIT 1"),
            {"r": report.run_id}).one()
    yield str(code), str(name)
    folder = app.extensions["gridmap.settings"].media_dir / report_jobs.FOLDER
    with engine.begin() as conn:
        tokens = conn.execute(text("DELETE FROM job WHERE kind = :k RETURNING params->>'token'"),
                              {"k": report_jobs.KIND}).scalars().all()
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})
    for token in tokens:
        for suffix in ("pdf", "html"):
            (folder / f"{token}.{suffix}").unlink(missing_ok=True)


def _work_when_queued(app: Flask, engine: Engine) -> threading.Thread:
    """Run the first report job that appears, as the worker would."""
    settings = app.extensions["gridmap.settings"]

    def work() -> None:
        for _ in range(600):
            with engine.connect() as conn:
                job_id = conn.execute(text("SELECT id FROM job WHERE kind = :k AND state = "
                                           "'queued' ORDER BY id LIMIT 1"),
                                      {"k": report_jobs.KIND}).scalar()
            if job_id is not None:
                runner.run(make_session_factory(engine),
                           report_jobs.handlers(settings.media_dir, settings.assets_dir),
                           int(job_id), heartbeat_s=3600)
                return
            threading.Event().wait(0.1)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_a_planner_makes_and_downloads_a_report(probe: PageProbe, app: Flask, engine: Engine,
                                                browser: Any, tmp_path: Path,
                                                community: tuple[str, str]) -> None:
    code, name = community
    page = probe.page
    page.goto("/coverage/reports")
    assert page.locator("h1").inner_text() == "覆盖报告"
    page.locator("#grp-type").select_option(TYPE)
    page.locator("#grp-circle").select_option(CIRCLE)
    page.locator("#grp-area").fill(name)
    page.locator(".gm-picker-option, [role='option']").first.click(timeout=TIMEOUT_MS)
    worker = _work_when_queued(app, engine)
    page.locator("#grp-start").click()
    page.locator("#grp-list tr[data-state='succeeded']").first.wait_for(timeout=TIMEOUT_MS)
    worker.join(timeout=5)
    row = page.locator("#grp-list tbody tr").first
    assert name in row.inner_text() and "覆盖报告" in row.inner_text()
    probe.screenshot("reports-page")
    href = row.locator("a", has_text="PDF").get_attribute("href")
    assert href is not None
    answer: Any = page.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    pages = pypdf.PdfReader(io.BytesIO(answer.body())).pages
    assert len(pages) == 3 and name in pages[0].extract_text()
    offline_map = row.locator("a", has_text="离线地图").get_attribute("href")
    assert offline_map is not None
    drawn = _open_offline(browser, page.request.get(offline_map).body(), tmp_path)
    with engine.connect() as conn:
        buildings = conn.execute(text("SELECT count(*) FROM building WHERE grid_code LIKE :c"),
                                 {"c": code + "%"}).scalar_one()
    assert drawn["paths"] >= buildings + 1 and drawn["labels"] == [name]


def _open_offline(browser: Any, html: bytes, folder: Path) -> dict[str, Any]:
    """Open the downloaded map from a file with every other request refused: what it drew."""
    path = folder / "report.html"
    path.write_bytes(html)
    url = path.as_uri()
    refused: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context = browser.new_context()
    try:
        context.route("**/*", route)
        offline = context.new_page()
        offline.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        offline.on("pageerror", lambda e: errors.append(str(e)))
        offline.goto(url)
        offline.wait_for_selector(".leaflet-overlay-pane svg path")
        drawn = {"paths": offline.locator(".leaflet-overlay-pane svg path").count(),
                 "labels": offline.locator(".gm-area-label").all_inner_texts()}
    finally:
        context.close()
    assert refused == [] and errors == []
    return drawn


def test_a_report_under_way_is_followed_after_a_reload(probe: PageProbe, app: Flask,
                                                       engine: Engine,
                                                       community: tuple[str, str]) -> None:
    """Reloading the page (or opening it while a colleague's report is made) picks the running
    job up again: its progress shows, and the list is renewed when it is done."""
    _, name = community
    page = probe.page
    page.goto("/coverage/reports")
    page.locator("#grp-type").select_option(TYPE)
    page.locator("#grp-circle").select_option(CIRCLE)
    page.locator("#grp-area").fill(name)
    page.locator(".gm-picker-option, [role='option']").first.click(timeout=TIMEOUT_MS)
    page.locator("#grp-start").click()
    page.locator("#grp-job").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.reload()  # no worker yet: the job waits in the queue
    queued = page.locator("#grp-list tr[data-state='queued']").first
    job_id = queued.get_attribute("data-id", timeout=TIMEOUT_MS)
    page.locator("#grp-job").wait_for(state="visible", timeout=TIMEOUT_MS)
    worker = _work_when_queued(app, engine)
    page.locator(f"#grp-list tr[data-id='{job_id}'][data-state='succeeded']").wait_for(
        timeout=TIMEOUT_MS)
    worker.join(timeout=5)
