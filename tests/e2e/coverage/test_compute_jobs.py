"""Computing coverage from the pages, in a real browser, with a real job worker.

A planner presses "计算此项" on the coverage page and "计算全部" on the audit page; the job runs
in a ``gridmap worker`` process on the test database. To see the progress bar survive a reload
the job is held at its last step by a lock the test takes on the per-area totals, then let go.
The runs computed here are deleted afterwards and the current ones put back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import PageProbe
from sqlalchemy import Engine, text

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000
TYPE, CIRCLE = "pocket_park", "10min"


@pytest.fixture
def runs_restored(engine: Engine) -> Iterator[None]:
    """Every coverage run as it was before the test: new runs deleted, current flags back."""
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id, current FROM coverage_run")).all()
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id <> ALL(:ids)"),
                     {"ids": [r.id for r in before] or [0]})
        for run in before:
            conn.execute(text("UPDATE coverage_run SET current = :c WHERE id = :i"),
                         {"c": run.current, "i": run.id})


def _held_at_store(owner_engine: Engine) -> Any:
    """A connection holding a lock that stops a compute before it writes per-area totals."""
    holder = owner_engine.connect()
    holder.execute(text("LOCK TABLE coverage_area IN SHARE MODE"))
    return holder


def _no_run(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE facility_type = :t AND circle = :c"),
                     {"t": TYPE, "c": CIRCLE})


def test_a_missing_run_is_computed_from_the_coverage_page(
        probe: PageProbe, engine: Engine, owner_engine: Engine, job_worker: Any,
        runs_restored: None) -> None:
    _no_run(engine)
    page = probe.page
    page.goto(f"/coverage?type={TYPE}&circle={CIRCLE}")
    page.locator("#gcv-missing").wait_for(timeout=TIMEOUT_MS)
    holder = _held_at_store(owner_engine)
    try:
        page.locator("#gcv-compute").click()
        page.locator("#gcv-job").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function("() => document.getElementById('gcv-job-text').textContent"
                               ".includes('保存结果')", timeout=TIMEOUT_MS)
        probe.screenshot("coverage-compute-running")
        page.reload()  # the bar comes back: the page asks for jobs under way
        page.locator("#gcv-job").wait_for(timeout=TIMEOUT_MS)
        assert "保存结果" in page.locator("#gcv-job-text").inner_text()
        assert page.locator("#gcv-compute").is_disabled()
    finally:
        holder.rollback()
        holder.close()
    page.locator("#gcv-result").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gcv-missing").is_hidden() and page.locator("#gcv-job").is_hidden()
    assert page.locator("#gcv-job-outcome").inner_text() == "计算完成。"
    page.locator("#gcv-table tbody tr").first.wait_for(timeout=TIMEOUT_MS)
    probe.screenshot("coverage-compute-done")


def test_compute_all_from_the_audit_page_fills_every_column(
        probe: PageProbe, engine: Engine, job_worker: Any, runs_restored: None) -> None:
    _no_run(engine)
    page = probe.page
    page.goto("/coverage/audit")
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()",
                           timeout=TIMEOUT_MS)
    assert page.locator("#gca-missing").is_visible()
    page.locator("#gca-compute-all").click()
    page.locator("#gca-job").wait_for(timeout=TIMEOUT_MS)
    started = time.monotonic()
    page.wait_for_function("() => document.getElementById('gca-job-bar').value > 0",
                           timeout=TIMEOUT_MS)
    assert page.locator("#gca-job-cancel").is_visible()
    page.locator("#gca-job-outcome").wait_for(timeout=TIMEOUT_MS * 3)
    outcome = page.locator("#gca-job-outcome").inner_text()
    assert outcome.startswith("计算完成：新计算 "), outcome
    page.wait_for_function("() => window.gridmap.isIdle()", timeout=TIMEOUT_MS)
    assert page.locator("#gca-missing").is_hidden()
    assert page.locator("td.gca-not_computed").count() == 0
    assert page.locator("td.gca-covered, td.gca-gap").count() > 100
    probe.screenshot("coverage-audit-computed")
    assert time.monotonic() - started < 180


def test_cancel_from_the_audit_page_keeps_the_runs(
        probe: PageProbe, engine: Engine, owner_engine: Engine, job_worker: Any,
        runs_restored: None) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id FROM coverage_run WHERE current ORDER BY id")).all()
    page = probe.page
    page.goto("/coverage/audit")
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()",
                           timeout=TIMEOUT_MS)
    holder = _held_at_store(owner_engine)
    try:
        page.locator("#gca-compute-all").click()
        page.wait_for_function("() => document.getElementById('gca-job-text').textContent"
                               ".includes('保存结果')", timeout=TIMEOUT_MS)
        page.locator("#gca-job-cancel").click()
        page.wait_for_function("() => document.getElementById('gca-job-text').textContent"
                               ".includes('正在取消')", timeout=TIMEOUT_MS)
    finally:
        holder.rollback()
        holder.close()
    # The held rule finishes its step and stores (a step is not cut short); the next one stops.
    page.locator("#gca-job-outcome").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#gca-job-outcome").inner_text() == "计算已取消，原有结果保持不变。"
    with engine.connect() as conn:
        after = conn.execute(text("SELECT id FROM coverage_run WHERE current ORDER BY id")).all()
        newer = conn.execute(text("SELECT count(*) FROM coverage_run WHERE id > :m"),
                             {"m": max((r.id for r in before), default=0)}).scalar_one()
    # Only the rule held at its last step was stored; every other run stayed as it was.
    assert newer == 1 and len(set(before) - set(after)) <= 1
    probe.screenshot("coverage-audit-cancelled")
