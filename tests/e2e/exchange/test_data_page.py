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
