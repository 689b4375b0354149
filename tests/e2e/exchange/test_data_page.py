"""The data page in a real browser with a real job worker: a data officer checks an Amap CSV
labelled WGS84 (refused, the offset said), checks it again as GCJ-02, and imports it."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_sign_in import Account, make_account, remove_accounts, sign_in
from e2e_support import open_probe
from flask import Flask
from sqlalchemy import Engine, text

from gridmap import crs as datums

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000


@pytest.fixture
def officer(engine: Engine) -> Iterator[Account]:
    account = make_account(engine, "data_officer", area_code="210103")
    yield account
    remove_accounts(engine, [account])


@pytest.fixture
def media(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads go to a folder of the test's own (the worker reads the app's settings)."""
    folder = tmp_path / "media"
    monkeypatch.setitem(app.extensions, "gridmap.settings",
                        dataclasses.replace(app.extensions["gridmap.settings"], media_dir=folder))
    return folder


def _amap_csv(engine: Engine, path: Path) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, type, name, ST_X(geom), ST_Y(geom) FROM facility "
                                 "WHERE type = 'pocket_park' ORDER BY code LIMIT 40")).all()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["编码", "类型", "名称", "经度", "纬度"])
        for code, kind, name, x, y in rows:
            gx, gy = datums.wgs84_to_gcj02(x, y)
            writer.writerow([code, kind, f"{name}·新", f"{float(gx):.7f}", f"{float(gy):.7f}"])
    return [(str(r[0]), str(r[2])) for r in rows]


def test_a_data_officer_checks_then_imports_an_amap_csv(
        browser: Any, live_server: str, officer: Account, media: Path, job_worker: Any,
        engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "口袋公园.csv"
    originals = _amap_csv(engine, path)
    try:
        with open_probe(browser, live_server) as probe:
            page = probe.page
            sign_in(page, officer, next_path="/data")
            assert page.title().startswith("数据导入与导出")
            page.locator("#gdx-layer").select_option("facilities")
            page.locator("#gdx-file").set_input_files(str(path))
            page.locator("#gdx-check").click()
            page.locator("#gdx-result:not([hidden])").wait_for(timeout=TIMEOUT_MS)
            assert "未写入任何数据" in page.locator("#gdx-job-outcome").inner_text()
            problem = page.locator("#gdx-problems tbody tr").first.inner_text()
            assert "GCJ-02" in problem and "--crs gcj02" in problem
            probe.screenshot("data-import-refused")
            page.locator("#gdx-crs").select_option("gcj02")
            page.locator("#gdx-check").click()  # the same upload, checked again
            page.wait_for_function("() => document.getElementById('gdx-changed').textContent"
                                   " === '40'", timeout=TIMEOUT_MS)
            assert page.locator("#gdx-job-outcome").inner_text() == "检查通过，可以导入。"
            assert page.locator("#gdx-mapping select[name=name]").input_value() == "名称"
            page.locator("#gdx-run").click()
            page.wait_for_function("() => document.getElementById('gdx-job-outcome')"
                                   ".textContent.startsWith('已导入')", timeout=TIMEOUT_MS)
            probe.screenshot("data-import-done")
        with engine.connect() as conn:
            names = dict(conn.execute(text("SELECT code, name FROM facility WHERE code = ANY(:c)"),
                                      {"c": [c for c, _ in originals]}).all())
        assert all(names[code] == f"{name}·新" for code, name in originals)
    finally:
        with engine.begin() as conn:
            for code, name in originals:
                conn.execute(text("UPDATE facility SET name = :n WHERE code = :c"),
                             {"n": name, "c": code})
            conn.execute(text("DELETE FROM data_import WHERE file_name = :f"), {"f": path.name})


def test_a_data_officer_exports_one_area_picked_by_name(
        browser: Any, live_server: str, officer: Account, engine: Engine, tmp_path: Path) -> None:
    """Issue 12: the export's area is picked by name, not a numeric code; a name not picked from
    the list is told under the field and downloads nothing; the export holds that area only."""
    with engine.connect() as conn:
        district = conn.execute(text("SELECT name FROM district WHERE code = '210103'")).scalar_one()
        code, name = conn.execute(text(
            "SELECT s.code, s.name FROM subdistrict s WHERE s.code LIKE '210103%' ORDER BY "
            "(SELECT count(*) FROM facility f WHERE f.community_code LIKE s.code || '%') DESC, "
            "s.code LIMIT 1")).one()
        expected = set(conn.execute(text("SELECT code FROM facility WHERE community_code LIKE :p"),
                                    {"p": f"{code}%"}).scalars())
    assert expected
    with open_probe(browser, live_server) as probe:
        page = probe.page
        sign_in(page, officer, next_path="/data")
        field = page.locator("#gdx-x-area")
        assert field.get_attribute("pattern") is None
        page.wait_for_function("() => window.gridmap && window.gridmap.isIdle()", timeout=TIMEOUT_MS)
        assert field.input_value() == district  # the officer's own area, by name
        page.locator("#gdx-x-layer").select_option("facilities")
        page.locator("#gdx-x-format").select_option("csv")

        field.fill("没有这个街道")
        page.locator("#gdx-x-crs").focus()  # leaving the field tells at once
        problem = page.locator("#gdx-x-area-problem")
        problem.wait_for(timeout=TIMEOUT_MS)
        assert "“没有这个街道”不是列表中的单位" in problem.inner_text()
        assert field.get_attribute("aria-invalid") == "true"
        page.locator("#gdx-x-link").click()  # no download: the message stays
        assert problem.is_visible()
        probe.screenshot("data-export-area-not-picked")

        field.fill(name)
        page.locator(f".gm-picker-option[data-code='{code}']").click()
        assert field.input_value() == name and problem.is_hidden()
        assert f"subdistrict={code}" in (page.locator("#gdx-x-link").get_attribute("href") or "")
        probe.screenshot("data-export-area-picked")
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.locator("#gdx-x-link").click()
        saved = tmp_path / "export.csv"
        download.value.save_as(saved)
    assert code in download.value.suggested_filename
    with saved.open(encoding="utf-8-sig", newline="") as rows:
        codes = {row["code"] for row in csv.DictReader(rows)}
    assert codes == expected
