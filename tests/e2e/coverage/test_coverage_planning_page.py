"""Coverage planning in a real browser: siting markers, what-if totals and the GB 50180 audit.

Runs against the live test app (real PostGIS, 沈河区), offline-guarded. A 15-minute run of the
elder-care stations is computed and committed for the module (the live server reads through its
own connections) and deleted afterwards. Screenshots go to test-artifacts/coverage-plan-*.png.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import PageProbe
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 30_000
TYPE, CIRCLE = "elder_care_station", "15min"


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
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


def wait_idle(page: Any) -> None:
    page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)


def open_coverage(probe: PageProbe) -> Any:
    page = probe.page
    page.goto(f"/coverage?type={TYPE}&circle={CIRCLE}")
    wait_idle(page)
    page.locator("#gcv-site-area option").nth(1).wait_for(state="attached", timeout=TIMEOUT_MS)
    assert page.locator("#gcv-status[data-kind='error']").count() == 0
    return page


def test_siting_shows_ranked_markers(probe: PageProbe, subdistrict: str) -> None:
    page = open_coverage(probe)
    page.locator("#gcv-site-area").select_option(subdistrict)
    page.locator("#gcv-site-k").fill("3")
    page.locator("#gcv-site-run").click()
    page.locator(".gcv-site").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    ranks = page.locator(".gcv-site span").all_inner_texts()
    assert ranks == [str(i + 1) for i in range(len(ranks))] and 1 <= len(ranks) <= 3
    assert page.locator("#gcv-sites li").count() == len(ranks)
    assert page.locator("#gcv-plan-status[data-kind='error']").count() == 0
    page.locator(".gcv-site").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=TIMEOUT_MS)
    assert "第 1 处" in popup.inner_text() and "新增覆盖老年人" in popup.inner_text()
    page.locator("#gcv-plan").scroll_into_view_if_needed()
    probe.screenshot("coverage-plan-siting")


def test_a_district_is_sited_by_the_job_worker(probe: PageProbe, subdistrict: str,
                                               job_worker: Any) -> None:
    """A whole district goes to the background: the bar shows, then the same markers."""
    page = open_coverage(probe)
    page.locator("#gcv-site-area").select_option(subdistrict[:6])
    page.locator("#gcv-site-k").fill("3")
    page.locator("#gcv-site-run").click()
    page.locator(".gcv-site").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert len(page.locator(".gcv-site span").all_inner_texts()) == 3
    assert page.locator("#gcv-site-job").is_hidden()  # the job is done: its bar is gone
    assert "3 处新址共新增" in page.locator("#gcv-plan-status").inner_text()
    with page.expect_response(lambda r: r.url.endswith("/api/coverage/siting")) as sent:
        page.locator("#gcv-site-run").click()
    assert sent.value.status == 202  # a job, not the answer itself
    page.locator(".gcv-site").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)


def test_what_if_add_changes_totals(probe: PageProbe, subdistrict: str) -> None:
    page = open_coverage(probe)
    page.locator("#gcv-site-area").select_option(subdistrict)
    page.locator("#gcv-site-k").fill("1")
    page.locator("#gcv-site-run").click()
    page.locator(".gcv-site").first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    page.locator("#gcv-wi-add").click()
    assert page.locator("#gcv-wi-add").get_attribute("aria-pressed") == "true"
    box = page.locator(".gcv-site").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2 + 30)
    page.locator(".gcv-wi-new").first.wait_for(timeout=TIMEOUT_MS)
    assert "新增 1 处" in page.locator("#gcv-wi-edits").inner_text()
    page.locator("#gcv-wi-run").click()
    page.locator("#gcv-wi-result:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    elderly = page.locator("#gcv-wi-elderly").inner_text()
    before, after = (float(v.strip().rstrip("%")) for v in elderly.split("→"))
    # The rate is shown to 0.1 %: one new station in a well-covered district may not move it,
    # but it must never fall, and it must bring buildings into cover.
    assert after >= before
    gained = re.search(r"新增覆盖 (\d+)", page.locator("#gcv-wi-buildings").inner_text())
    assert gained is not None and int(gained.group(1)) > 0
    page.locator("#gcv-plan").scroll_into_view_if_needed()
    probe.screenshot("coverage-plan-whatif")
    page.locator("#gcv-wi-clear").click()
    assert page.locator(".gcv-wi-new, .gcv-site").count() == 0
    assert page.locator("#gcv-wi-result").is_hidden()


def test_audit_page_lists_communities(probe: PageProbe, subdistrict: str) -> None:
    page = probe.page
    page.goto("/coverage/audit")
    wait_idle(page)
    assert page.title().startswith("GB 50180")
    rows = page.locator("#gca-table tbody tr")
    assert rows.count() > 10
    pairs = page.locator("#gca-table thead th.gca-pair").count()
    assert pairs >= 1
    assert rows.first.locator("td").count() == pairs + 1
    ours = page.locator(f"#gca-table thead th[data-pair='{TYPE}|{CIRCLE}']")
    assert ours.count() == 1
    assert page.locator("td.gca-covered, td.gca-gap").count() > 0
    # The planner's district is where the audit starts (and all it may read).
    assert page.locator("#gca-area").input_value() == "沈河区"
    assert page.locator("#gca-x-csv").get_attribute("href").endswith(
        ".csv?level=community&area=210103&min_share=0.9")
    rows.nth(12).scroll_into_view_if_needed()
    probe.screenshot("coverage-plan-audit")
    # The area is picked by its name from the list, never typed as a code.
    name = area_name(probe, subdistrict)
    page.locator("#gca-area").fill(name)
    page.locator(f"#gca-form .gm-picker-option[data-code='{subdistrict}']").click()
    page.locator("#gca-form button[type=submit]").click()
    wait_idle(page)
    codes = page.locator("#gca-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.code)")
    assert codes and all(c.startswith(subdistrict) for c in codes)
    assert f"area={subdistrict}" in page.url
    page.goto("/coverage/audit?lang=en")
    wait_idle(page)
    assert page.title().startswith("GB 50180 audit")
    probe.screenshot("coverage-plan-audit-en")


def area_name(probe: PageProbe, code: str) -> str:
    """The name of a sub-district, as the search lists it."""
    found = probe.page.evaluate(
        "async (q) => (await (await fetch('/api/search?limit=5&q=' + q)).json()).results", code)
    return str(next(r["name"] for r in found if r["code"] == code))


def test_audit_area_unknown_says_so(probe: PageProbe) -> None:
    """A name not picked from the list, or a linked code with no area, gets a plain message,
    never the browser's "Please match the requested format"."""
    page = probe.page
    page.goto("/coverage/audit?area=210199")
    wait_idle(page)
    problem = page.locator("#gca-area-problem")
    assert problem.is_visible() and "没有代码为 210199 的区、街道或社区" in problem.inner_text()
    page.locator("#gca-area").fill("火星街道")
    page.locator("#gca-form .gm-picker-empty").wait_for(timeout=TIMEOUT_MS)  # "没有找到…"
    page.locator("#gca-form button[type=submit]").click()
    assert "“火星街道”不是列表中的单位" in problem.inner_text()
    assert page.locator("#gca-area").get_attribute("aria-invalid") == "true"
    assert page.evaluate("() => document.getElementById('gca-area').validationMessage") == ""
    page.locator("#gca-form .gm-picker-list").wait_for(state="hidden", timeout=TIMEOUT_MS)
    probe.screenshot("coverage-plan-audit-unknown-area")


def test_audit_reads_uncomputed_as_unknown(probe: PageProbe, subdistrict: str) -> None:
    """A required item never computed leaves an area unknown, never failed nor fully covered."""
    page = probe.page
    page.goto("/coverage/audit")
    wait_idle(page)
    rows = page.locator("#gca-table tbody tr").evaluate_all(
        "rs => rs.map(r => ({verdict: r.dataset.verdict, cells: Array.from("
        "r.querySelectorAll('td.gca-cell')).map(c => c.dataset.status)}))")
    assert rows
    for row in rows:
        expected = ("failing" if "gap" in row["cells"] else
                    "unknown" if "not_computed" in row["cells"] else "full")
        assert row["verdict"] == expected, row
    # Only one of the required items is computed here: most areas are unknown, and say so.
    unknown = sum(r["verdict"] == "unknown" for r in rows)
    assert unknown > 0
    summary = page.locator("#gca-summary").inner_text()
    assert f"{unknown} 个未知" in summary, summary
    assert page.locator("#gca-table thead th.gca-pair-missing").count() >= 1
    assert page.locator("tr[data-verdict='unknown'] .gca-verdict").first.inner_text() == "未知"
    probe.screenshot("coverage-plan-audit-unknown")


def test_siting_places_export_and_hand_off_to_what_if(probe: PageProbe, subdistrict: str,
                                                      tmp_path: Any) -> None:
    """Sites name their community and street, with coordinates; they download as CSV and
    GeoJSON; "在假设分析中尝试" turns them into what-if facilities and computes."""
    page = open_coverage(probe)
    page.locator("#gcv-site-area").select_option(subdistrict)
    page.locator("#gcv-site-k").fill("2")
    page.locator("#gcv-site-run").click()
    page.locator("#gcv-site-actions:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    items = page.locator("#gcv-sites li")
    n = items.count()
    assert 1 <= n <= 2
    first = items.first.inner_text()
    assert re.search(r"社区 · (近.+（\d+ 米）|.+旁)", first), first
    assert re.search(r"经度 12\d\.\d{6}，纬度 4\d\.\d{6}", first), first
    with page.expect_download() as got:
        page.locator("#gcv-site-csv").click()
    csv_path = tmp_path / got.value.suggested_filename
    got.value.save_as(csv_path)
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("rank,lon,lat,community_code,community,street") and len(lines) == n + 1
    with page.expect_download() as got:
        page.locator("#gcv-site-geojson").click()
    geo_path = tmp_path / got.value.suggested_filename
    got.value.save_as(geo_path)
    collection = json.loads(geo_path.read_text(encoding="utf-8"))
    assert len(collection["features"]) == n
    assert collection["features"][0]["properties"]["community"] in first
    page.locator("#gcv-plan").scroll_into_view_if_needed()
    probe.screenshot("coverage-plan-siting-places")
    page.evaluate("""() => document.addEventListener("gridmap:whatif",
        (e) => { window.__whatif = JSON.parse(JSON.stringify(e.detail)); })""")
    page.locator("#gcv-site-try").click()
    page.locator("#gcv-wi-result:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert page.locator(".gcv-wi-new").count() == n
    assert f"新增 {n} 处" in page.locator("#gcv-wi-edits").inner_text()
    gained = re.search(r"新增覆盖 (\d+)", page.locator("#gcv-wi-buildings").inner_text())
    assert gained is not None and int(gained.group(1)) > 0
    # The scenarios' contract: the exact request (the sites as added points) and its answer.
    event = page.evaluate("() => window.__whatif")
    request = event["request"]
    assert set(request) == {"type", "circle", "level", "add", "remove"}
    assert [[round(x, 6) for x in p] for p in request["add"]] == [
        [round(f["geometry"]["coordinates"][0], 6), round(f["geometry"]["coordinates"][1], 6)]
        for f in collection["features"]]
    assert event["answer"]["buildings_gained"] == int(gained.group(1))
    # The map redraws the buildings that gain cover, with a legend; each community's change.
    page.locator("#gcv-wi-change:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("path.gcv-wi-gained").count() == int(gained.group(1))
    assert page.locator("#gcv-wi-change .gcv-swatch.gcv-gained").is_visible()
    rows = page.locator("#gcv-wi-areas tbody tr")
    assert rows.count() == len(event["answer"]["areas"]) >= 1
    first_row = rows.first.inner_text()
    assert re.search(r"社区\s+[\d,]+ → [\d,]+\s+\+[\d,]+ 人\s+[\d.]+% → [\d.]+%\s+\+[\d.]+ 个百分点",
                     first_row), first_row
    page.locator("#gcv-wi-change").scroll_into_view_if_needed()
    probe.screenshot("coverage-plan-siting-to-whatif")


def test_siting_to_what_if_on_a_phone(phone_probe: PageProbe, subdistrict: str) -> None:
    """The same path fits a phone: the places, the actions and the per-community table."""
    page = open_coverage(phone_probe)
    page.locator("#gcv-site-area").select_option(subdistrict)
    page.locator("#gcv-site-k").fill("2")
    page.locator("#gcv-site-run").click()
    page.locator("#gcv-site-actions:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    page.locator("#gcv-sites").scroll_into_view_if_needed()
    phone_probe.screenshot("coverage-plan-siting-places-phone")
    for button in ("#gcv-site-try", "#gcv-site-csv", "#gcv-site-geojson"):
        box = page.locator(button).bounding_box()
        assert box is not None and box["height"] >= 40 and box["x"] + box["width"] <= 390
    page.locator("#gcv-site-try").click()
    page.locator("#gcv-wi-change:not([hidden])").wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    table = page.locator("#gcv-wi-areas").bounding_box()
    assert table is not None and table["x"] + table["width"] <= 390
    page.locator("#gcv-wi-change").scroll_into_view_if_needed()
    phone_probe.screenshot("coverage-plan-siting-to-whatif-phone")
