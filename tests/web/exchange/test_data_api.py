"""The data page's API: an import as a background job (run here in-process, as the worker
would, in the test's transaction), its report, and exports inside one's territory."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from flask import Flask
from flask.testing import FlaskClient
from osm_extract import Extract, square
from sqlalchemy import Connection, text

from gridmap.exchange.services import jobs as exchange_jobs
from gridmap.jobs.services import runner


def _geojson(rows: list[dict[str, Any]]) -> bytes:
    frame = gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in rows],
                             geometry=[r["geometry"] for r in rows], crs="EPSG:4326")
    return frame.to_json().encode()


def _run(app: Flask, media: Path, job_id: int) -> None:
    runner.run(app.extensions["gridmap.sessions"], exchange_jobs.handlers(media), job_id,
               heartbeat_s=3600)


def test_the_page_is_for_data_officers_and_administrators(api: FlaskClient,
                                                           login: Callable[..., dict[str, str]]) -> None:
    assert api.get("/data", headers=login("data_officer")).status_code == 200
    assert api.get("/data", headers=login("admin")).status_code == 200
    assert api.get("/data", headers=login("planner")).status_code == 403
    assert api.get("/data").status_code == 302


def test_the_export_area_is_picked_by_name(api: FlaskClient,
                                          login: Callable[..., dict[str, str]]) -> None:
    """Issue 12: the export's area is a picker by name (js/pickers.js), not a numeric code
    checked by a browser pattern; the officer's own area reaches the page to start from."""
    page = api.get("/data", headers=login("data_officer", area="210103")).get_data(as_text=True)
    tag = re.search(r'<input[^>]*id="gdx-x-area"[^>]*>', page)
    assert tag and "pattern=" not in tag.group(0) and "numeric" not in tag.group(0)
    assert "js/pickers.js" in page and 'id="gm-picker-strings"' in page
    assert 'id="gdx-x-area-problem"' in page and '"area": "210103"' in page


def test_a_dry_run_then_the_import_through_the_api(app: Flask, api: FlaskClient, tx: Connection,
                                                   media: Path,
                                                   login: Callable[..., dict[str, str]]) -> None:
    officer = login("data_officer")
    code, x, y = tx.execute(text("SELECT code, ST_X(geom), ST_Y(geom) FROM facility "
                                 "ORDER BY code LIMIT 1")).one()
    body = _geojson([{"设施编码": code, "设施类型": "elder_care_station", "设施名称": "改过的名字",
                      "geometry": shapely.Point(x, y)}])
    answer = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                      data={"layer": "facilities", "dry_run": "1", "source": "测试来源",
                            "file": (io.BytesIO(body), "站点.geojson")})
    assert answer.status_code == 202, answer.get_json()
    job, upload = answer.get_json()["job"], answer.get_json()["upload"]
    assert job["kind"] == "exchange.import" and upload["name"] == "站点.geojson"
    assert (media / "imports" / upload["token"] / upload["name"]).read_bytes() == body
    _run(app, media, job["id"])
    done = api.get(f"/api/jobs/{job['id']}", headers=officer).get_json()["job"]
    assert done["state"] == "succeeded", done
    result = done["result"]
    assert result["dry_run"] and result["rejected"] is None
    assert result["changes"]["changed"] == 1 and result["mapping"]["name"] == "设施名称"
    assert tx.execute(text("SELECT name FROM facility WHERE code = :c"),
                      {"c": code}).scalar_one() != "改过的名字"
    # The import itself, with the same upload (no file sent again).
    again = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                     data={"layer": "facilities", "source": "测试来源", **{
                         "upload": upload["token"], "upload_name": upload["name"]}})
    assert again.status_code == 202
    _run(app, media, again.get_json()["job"]["id"])
    assert tx.execute(text("SELECT name FROM facility WHERE code = :c"),
                      {"c": code}).scalar_one() == "改过的名字"
    recorded = tx.execute(text("SELECT source, mapping FROM data_import ORDER BY id DESC "
                               "LIMIT 1")).one()
    assert recorded.source == "测试来源" and recorded.mapping["name"] == "设施名称"


def test_a_rejected_file_reports_and_its_report_downloads(app: Flask, api: FlaskClient,
                                                          media: Path,
                                                          login: Callable[..., dict[str, str]]
                                                          ) -> None:
    officer = login("data_officer")
    body = _geojson([{"code": "X1", "type": "spaceport", "name": "x",
                      "geometry": shapely.Point(123.43, 41.80)}])
    job = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                   data={"layer": "facilities", "dry_run": "1",
                         "file": (io.BytesIO(body), "bad.geojson")}).get_json()["job"]
    _run(app, media, job["id"])
    result = api.get(f"/api/jobs/{job['id']}", headers=officer).get_json()["job"]["result"]
    assert result["rejected"] and result["problem_list"][0]["code"] == "unknown_facility_type"
    report = api.get(f"/api/imports/{job['id']}/report.csv", headers=officer)
    assert report.status_code == 200 and b"unknown_facility_type" in report.data
    places = json.loads(api.get(f"/api/imports/{job['id']}/report.geojson",
                                headers=officer).data)
    assert places["features"][0]["geometry"]["type"] == "Point"
    # Someone else's job has no report for them.
    assert api.get(f"/api/imports/{job['id']}/report.csv",
                   headers=login("data_officer")).status_code == 404


def test_uploads_are_checked_before_any_job(api: FlaskClient, tx: Connection,
                                            login: Callable[..., dict[str, str]],
                                            media: Path) -> None:
    officer = login("data_officer")
    before = tx.execute(text("SELECT count(*) FROM job")).scalar_one()
    for data in ({"layer": "facilities"}, {"layer": "nope", "file": (io.BytesIO(b"x"), "a.csv")},
                 {"layer": "grids", "file": (io.BytesIO(b"x"), "a.exe")},
                 {"layer": "grids", "file": (io.BytesIO(b""), "a.csv")},
                 {"layer": "grids", "upload": "A" * 24, "upload_name": "a.csv"},
                 {"layer": "grids", "mapping": "[1]", "file": (io.BytesIO(b"x"), "a.csv")}):
        answer = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                          data=data)
        assert answer.status_code in (400, 404), (data, answer.get_json())
        assert answer.get_json()["error"]["message"]
    assert tx.execute(text("SELECT count(*) FROM job")).scalar_one() == before
    assert api.post("/api/imports", headers=login("planner"), content_type="multipart/form-data",
                    data={"layer": "grids"}).status_code == 403


def test_exports_stay_inside_ones_territory(api: FlaskClient, tx: Connection,
                                            login: Callable[..., dict[str, str]]) -> None:
    community = tx.execute(text("SELECT min(code) FROM community")).scalar_one()
    officer = login("data_officer", area=community[:6])
    answer = api.get(f"/api/exports/facilities.csv?community={community}&crs=gcj02",
                     headers=officer)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    n = tx.execute(text("SELECT count(*) FROM facility WHERE community_code = :c"),
                   {"c": community}).scalar_one()
    assert int(answer.headers["X-Feature-Count"]) == n
    assert answer.data.decode("utf-8-sig").splitlines()[0].endswith(",lon,lat")
    assert "attachment" in answer.headers["Content-Disposition"]
    assert api.get("/api/exports/facilities.csv", headers=officer).status_code == 403  # whole city
    assert api.get("/api/exports/facilities.csv?district=210104",
                   headers=officer).status_code == 403
    gpkg = api.get(f"/api/exports/grids.gpkg?community={community}", headers=login("admin"))
    assert gpkg.status_code == 200 and gpkg.data[:16] == b"SQLite format 3\x00"
    assert api.get("/api/exports/grids.exe", headers=login("admin")).status_code == 400


def test_an_osm_extract_is_checked_through_the_page(app: Flask, api: FlaskClient,
                                                    tx: Connection, media: Path,
                                                    login: Callable[..., dict[str, str]]) -> None:
    officer = login("data_officer")
    x, y = tx.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM street_node ORDER BY id LIMIT 1")
                      ).one()
    extract = (f'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="{y}" lon="{x}"/>'
               f'<node id="2" lat="{y + 0.001}" lon="{x}"/><way id="1"><nd ref="1"/>'
               '<nd ref="2"/><tag k="highway" v="footway"/></way></osm>').encode()
    answer = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                      data={"layer": "streets", "dry_run": "1",
                            "file": (io.BytesIO(extract), "extract.osm")})
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["job"]["id"]
    _run(app, media, job_id)
    result = api.get(f"/api/jobs/{job_id}", headers=officer).get_json()["job"]["result"]
    assert result["streets"]["edges"] == 1 and result["changes"]["added"] == 1
    assert result["dry_run"] and not result["written"]
    assert result["changes"]["removed"] == tx.execute(text("SELECT count(*) FROM street_edge")
                                                      ).scalar_one()


def test_osm_buildings_through_the_page_dry_run_then_import(
        app: Flask, api: FlaskClient, tx: Connection, media: Path, tmp_path: Path,
        login: Callable[..., dict[str, str]]) -> None:
    officer = login("data_officer")
    x, y = tx.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                           "FROM grid ORDER BY code LIMIT 1) g")).one()
    extract = Extract()
    extract.way(5, square(x, y, 0.00005), {"building": "yes", "name": "网格楼"})
    extract.way(6, square(x, y, 0.00005), {"building": "no"})
    body = extract.write(tmp_path / "extract.osm").read_bytes()
    answer = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                      data={"layer": "buildings", "dry_run": "1",
                            "file": (io.BytesIO(body), "extract.osm")})
    assert answer.status_code == 202, answer.get_json()
    job, upload = answer.get_json()["job"], answer.get_json()["upload"]
    _run(app, media, job["id"])
    result = api.get(f"/api/jobs/{job['id']}", headers=officer).get_json()["job"]["result"]
    assert result["rejected"] is None and result["changes"]["added"] == 1
    assert result["problems"]["note:counts_unknown"] == 1
    assert result["problems"]["note:osm_skipped"] == 1
    # The page sends the mapping it showed back with the import.
    again = api.post("/api/imports", headers=officer, content_type="multipart/form-data",
                     data={"layer": "buildings", "mapping": json.dumps(result["mapping"]),
                           "upload": upload["token"], "upload_name": upload["name"]})
    _run(app, media, again.get_json()["job"]["id"])
    assert tx.execute(text("SELECT name FROM building WHERE code = 'osm:w5'")).scalar_one() == \
        "网格楼"
