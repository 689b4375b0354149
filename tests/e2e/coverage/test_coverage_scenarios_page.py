"""Saved what-if scenarios in a real browser: run a what-if on the coverage page, save it, list
the scenarios, compare two side by side, export and print; and the planner's whole path of issue
12 (siting → places → CSV → what-if → save → list → export, the export equal to what was shown).

Runs against the live test app (real PostGIS, 沈河区), offline-guarded, at 1280×800 (and the
list, comparison and print views also at 390×844). A 15-minute run of the elder-care stations
is computed and committed for the module and deleted afterwards, with the scenarios saved here.
Screenshots go to test-artifacts/coverage-scenarios-*.png.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import PageProbe
from sqlalchemy import Engine, text
from test_coverage_planning_page import open_coverage

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 30_000
TYPE, CIRCLE = "elder_care_station", "15min"
PREFIX = "E2E 方案"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def subdistrict(engine: Engine) -> Iterator[str]:
    """A committed run; yields the sub-district with the most uncovered elderly."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    with engine.connect() as conn:
        code = conn.execute(text(
            "SELECT code FROM coverage_area WHERE run_id = :r AND level = 'subdistrict' "
            "ORDER BY elderly - elderly_covered DESC, code LIMIT 1"), {"r": report.run_id}).scalar_one()
    yield str(code)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM whatif_scenario WHERE name LIKE :p"), {"p": PREFIX + "%"})
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


def wait_idle(page: Any) -> None:
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def run_what_if(page: Any, subdistrict: str, dx: int) -> None:
    """A what-if adding one facility ``dx`` px beside the best site of ``subdistrict``."""
    page.locator("#gcv-site-area").select_option(subdistrict)
    page.locator("#gcv-site-k").fill("1")
    page.locator("#gcv-site-run").click()
    page.locator(".gcv-site").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    page.locator("#gcv-wi-add").click()
    box = page.locator(".gcv-site").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + 20)
    page.locator(".gcv-wi-new").first.wait_for(timeout=TIMEOUT_MS)
    with page.expect_response(lambda r: r.url.endswith("/api/coverage/what-if")) as answer:
        page.locator("#gcv-wi-run").click()
    assert answer.value.status == 200
    page.locator("#gcv-wi-result:not([hidden])").wait_for(timeout=TIMEOUT_MS)


def save(page: Any, name: str, note: str) -> None:
    form = page.locator("#gsc-save")
    form.wait_for(state="visible", timeout=TIMEOUT_MS)
    page.locator("#gsc-save-name").fill(name)
    page.locator("#gsc-save-note").fill(note)
    with page.expect_response(lambda r: r.url.endswith("/api/coverage/scenarios")) as answer:
        page.locator("#gsc-save-button").click()
    assert answer.value.status == 201, answer.value.text()
    page.locator("#gsc-saved-link").wait_for(timeout=TIMEOUT_MS)
    assert name in page.locator("#gsc-save-status").inner_text()


def test_save_list_compare_export_and_print(probe: PageProbe, subdistrict: str,
                                            tmp_path: Path) -> None:
    page = probe.page
    page.goto(f"/coverage?type={TYPE}&circle={CIRCLE}")
    wait_idle(page)
    page.locator("#gcv-site-area option").nth(1).wait_for(state="attached", timeout=TIMEOUT_MS)
    assert page.locator("#gsc-save").is_hidden()  # nothing to save before a what-if
    run_what_if(page, subdistrict, 30)
    save(page, f"{PREFIX}甲", "东侧新增一处")
    page.locator("#gcv-plan").scroll_into_view_if_needed()
    probe.screenshot("coverage-scenarios-save")
    page.locator("#gcv-wi-clear").click()
    run_what_if(page, subdistrict, -40)
    save(page, f"{PREFIX}乙", "西侧新增一处")

    page.locator("#gsc-list-link").click()
    page.wait_for_url("**/coverage/scenarios")
    items = page.locator(".gsc-item", has_text=PREFIX)
    assert items.count() == 2
    assert page.locator("#gsc-compare").is_disabled()
    probe.screenshot("coverage-scenarios-list")
    page.set_viewport_size(PHONE)
    probe.screenshot("coverage-scenarios-list-phone")
    page.set_viewport_size(DESKTOP)
    for i in range(2):
        items.nth(i).locator(".gsc-check").check()
    assert page.locator("#gsc-compare").is_enabled()
    page.locator("#gsc-compare").click()
    page.wait_for_url("**/coverage/scenarios/compare?ids=*")
    heads = page.locator("#gsc-cmp-summary thead th").all_inner_texts()
    assert len(heads) == 3 and any("甲" in h for h in heads) and any("乙" in h for h in heads)
    assert page.locator("#gsc-cmp-summary tbody tr").count() >= 6
    probe.screenshot("coverage-scenarios-compare")
    page.emulate_media(media="print")
    assert page.locator(".gm-header").is_hidden() and page.locator("#gsc-print").is_hidden()
    probe.screenshot("coverage-scenarios-compare-print")
    page.set_viewport_size(PHONE)
    probe.screenshot("coverage-scenarios-compare-print-phone")
    page.emulate_media(media="screen")
    probe.screenshot("coverage-scenarios-compare-phone")
    page.set_viewport_size(DESKTOP)

    page.locator("#gsc-cmp-summary thead a", has_text="甲").click()
    page.wait_for_url("**/coverage/scenarios/*")
    assert "东侧新增一处" in page.locator(".gsc-note").inner_text()
    page.locator(".gsc-marker-add").first.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download() as download:
        page.locator("#gsc-x-csv").click()
    saved = tmp_path / "scenario.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["kind"] for r in rows].count("added") == 1 and rows[0]["kind"] == "total"
    with page.expect_download() as download:
        page.locator("#gsc-x-geojson").click()
    assert download.value.suggested_filename.endswith(".geojson")
    probe.screenshot("coverage-scenarios-scenario")
    page.emulate_media(media="print")
    probe.screenshot("coverage-scenarios-scenario-print")
    page.emulate_media(media="screen")
    page.goto("/coverage/scenarios?lang=en")
    assert page.title().startswith("What-if scenarios")
    assert page.locator("#gsc-compare").inner_text() == "Compare side by side"
    probe.screenshot("coverage-scenarios-list-en")


SUMS = ("residents", "residents_covered_before", "residents_covered_after", "elderly",
        "elderly_covered_before", "elderly_covered_after")


def test_planner_takes_siting_to_a_saved_exported_scenario(probe: PageProbe, subdistrict: str,
                                                          tmp_path: Path) -> None:
    """Issue 12, done when: a planner sites stations, sees where they are, downloads them, tries
    them in what-if (the map recoloured, each area's change), saves the scenario, opens it from
    the list and exports it, and the export says what the page showed."""
    page = open_coverage(probe)
    page.locator("#gcv-site-area").select_option(subdistrict)
    page.locator("#gcv-site-k").fill("2")
    page.locator("#gcv-site-run").click()
    page.locator("#gcv-site-actions:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    places = page.locator("#gcv-sites li").all_inner_texts()
    assert 1 <= len(places) <= 2
    assert all(re.search(r"社区 · ", p) and re.search(r"经度 12\d\.\d{6}，纬度 4\d\.\d{6}", p)
               for p in places), places
    page.locator("#gcv-plan").scroll_into_view_if_needed()
    probe.screenshot("coverage-path-1-sites")
    with page.expect_download() as got:
        page.locator("#gcv-site-csv").click()
    sites_csv = tmp_path / got.value.suggested_filename
    got.value.save_as(sites_csv)
    sites = list(csv.DictReader(io.StringIO(sites_csv.read_text(encoding="utf-8-sig"))))
    assert len(sites) == len(places) and all(s["community"] for s in sites)

    page.evaluate("""() => document.addEventListener("gridmap:whatif",
        (e) => { window.__whatif = JSON.parse(JSON.stringify(e.detail)); })""")
    page.locator("#gcv-site-try").click()
    page.locator("#gcv-wi-change:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    event = page.evaluate("() => window.__whatif")
    answer = event["answer"]
    assert page.locator(".gcv-wi-new").count() == len(sites)
    assert [[round(x, 6) for x in p] for p in event["request"]["add"]] == [
        [round(float(s["lon"]), 6), round(float(s["lat"]), 6)] for s in sites]
    if not answer["buildings"].get("truncated"):
        assert page.locator("path.gcv-wi-gained").count() == answer["buildings_gained"] > 0
    shown = {r["code"]: r["text"] for r in page.locator("#gcv-wi-areas tbody tr").evaluate_all(
        "rs => rs.map(r => ({code: r.dataset.code, text: r.innerText}))")}
    assert set(shown) == {a["code"] for a in answer["areas"]} and shown
    elderly_shown = page.locator("#gcv-wi-elderly").inner_text()
    page.locator("#gcv-wi-change").scroll_into_view_if_needed()
    probe.screenshot("coverage-path-2-whatif")
    page.locator("#gsc-save").scroll_into_view_if_needed()
    probe.screenshot("coverage-path-3-save-form")
    page.set_viewport_size(PHONE)
    page.locator("#gcv-wi-change").scroll_into_view_if_needed()
    probe.screenshot("coverage-path-2-whatif-phone")
    page.locator("#gsc-save").scroll_into_view_if_needed()
    probe.screenshot("coverage-path-3-save-form-phone")
    page.set_viewport_size(DESKTOP)

    name = f"{PREFIX}选址全程"
    save(page, name, "选址结果在假设分析中尝试")
    page.locator("#gsc-list-link").click()
    page.wait_for_url("**/coverage/scenarios")
    page.locator(".gsc-item", has_text=name).locator(".gsc-item-name").click()
    page.wait_for_url("**/coverage/scenarios/*")
    page.locator(".gsc-marker-add").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".gsc-marker-add").count() == len(sites)
    probe.screenshot("coverage-path-4-scenario")
    with page.expect_download() as download:
        page.locator("#gsc-x-csv").click()
    exported = tmp_path / "scenario.csv"
    download.value.save_as(exported)
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))

    # The export is the answer the page showed: totals, every changed area, the sites.
    total = next(r for r in rows if r["kind"] == "total")
    assert {k: int(total[k]) for k in SUMS} == {k: answer["totals"][k] for k in SUMS}
    rate = f"{answer['totals']['elderly_covered_after'] / answer['totals']['elderly'] * 100:.1f}%"
    assert elderly_shown.endswith(rate), (elderly_shown, rate)
    areas = {r["code"]: {k: int(r[k]) for k in SUMS} for r in rows if r["kind"] == "area"}
    # The export lists every area of the level; the page, those that change.
    changed = {code: v for code, v in areas.items()
               if (v["residents_covered_before"], v["elderly_covered_before"])
               != (v["residents_covered_after"], v["elderly_covered_after"])}
    assert changed == {a["code"]: {k: a[k] for k in SUMS} for a in answer["areas"]}
    for code, figures in changed.items():
        before, after = figures["elderly_covered_before"], figures["elderly_covered_after"]
        assert f"{before:,} → {after:,}" in shown[code], (code, shown[code])
    added = [[round(float(r["lon"]), 6), round(float(r["lat"]), 6)] for r in rows if r["kind"] == "added"]
    assert added == [[round(x, 6) for x in p] for p in event["request"]["add"]]
