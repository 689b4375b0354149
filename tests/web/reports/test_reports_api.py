"""Coverage reports through the API: a planner starts one (a background job, run here
in-process as the worker would, in the test's transaction), lists it with who made it and
when, and downloads the PDF and the offline map; planners of another district see nothing.

One run (elder-care stations, 15-minute circle) is computed and committed for the module, as in
the coverage planning tests; it is deleted again afterwards.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory
from gridmap.jobs.services import runner
from gridmap.reports.services import jobs as report_jobs

TYPE, CIRCLE = "elder_care_station", "15min"
DISTRICT, OTHER_DISTRICT = "210103", "210104"
Login = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[int]:
    """A committed run of the type and circle; yields its id."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    yield report.run_id
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


@pytest.fixture(scope="module")
def community(engine: Engine, run: int) -> str:
    """The community with the most uncovered elderly in the run."""
    with engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT code FROM coverage_area WHERE run_id = :r AND level = 'community' "
            "ORDER BY elderly - elderly_covered DESC, code LIMIT 1"), {"r": run}).scalar_one())


def _work(app: Flask, media: Path, job_id: int) -> None:
    assets = app.extensions["gridmap.settings"].assets_dir
    runner.run(app.extensions["gridmap.sessions"], report_jobs.handlers(media, assets), job_id,
               heartbeat_s=3600)


def test_a_planner_makes_lists_and_downloads_a_report(app: Flask, api: FlaskClient, media: Path,
                                                      community: str, login: Login) -> None:
    planner = login("planner", area=DISTRICT)
    started = api.post("/api/reports/coverage", headers=planner,
                       json={"type": TYPE, "circle": CIRCLE, "area": community, "sites": 2})
    assert started.status_code == 202, started.get_json()
    job = started.get_json()["job"]
    assert "token" not in job["params"] and job["params"]["area"] == community
    again = api.post("/api/reports/coverage", headers=planner,
                     json={"type": TYPE, "circle": CIRCLE, "area": community, "sites": 2})
    assert again.status_code == 200 and again.get_json()["job"]["id"] == job["id"]
    not_yet = api.get(f"/api/reports/coverage/{job['id']}/pdf", headers=planner)
    assert not_yet.status_code == 409 and "尚未" in not_yet.get_json()["error"]["message"]

    _work(app, media, job["id"])
    listed = api.get("/api/reports/coverage", headers=planner).get_json()["reports"]
    assert [r["id"] for r in listed] == [job["id"]]
    assert listed[0]["state"] == "succeeded" and listed[0]["owner"] and listed[0]["created_at"]
    assert "覆盖报告" in listed[0]["result"]["title"]

    pdf = api.get(f"/api/reports/coverage/{job['id']}/pdf", headers=planner)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert len(pypdf.PdfReader(io.BytesIO(pdf.data)).pages) == 3
    pdf.close()
    page = api.get(f"/api/reports/coverage/{job['id']}/html", headers=planner)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"leaflet" in page.data.lower() and b'<script src="http' not in page.data
    page.close()

    # A colleague of the same district and a city-wide planner may follow and download it too.
    for colleague in (login("planner", area=DISTRICT), login("planner")):
        assert api.get(f"/api/jobs/{job['id']}", headers=colleague).status_code == 200
        shared = api.get(f"/api/reports/coverage/{job['id']}/html", headers=colleague)
        assert shared.status_code == 200
        shared.close()
    # To another district's planner the report does not exist: not in the reports, not among
    # the jobs, not as a job (its area, maker and file are theirs to know), not as a file.
    stranger = login("planner", area=OTHER_DISTRICT)
    assert api.get("/api/reports/coverage", headers=stranger).get_json()["reports"] == []
    jobs_seen = api.get("/api/jobs", headers=stranger).get_json()["jobs"]
    assert job["id"] not in [j["id"] for j in jobs_seen]
    assert api.get(f"/api/jobs/{job['id']}", headers=stranger).status_code == 404
    assert api.get(f"/api/reports/coverage/{job['id']}/pdf",
                   headers=stranger).status_code == 404
    assert api.get(f"/api/reports/coverage/{job['id']}/doc", headers=planner).status_code == 404


def test_reports_are_for_planners_in_their_district(api: FlaskClient, run: int,
                                                    login: Login) -> None:
    body = {"type": TYPE, "circle": CIRCLE, "area": OTHER_DISTRICT}
    # Without a token a POST is a cross-site form (CSRF refusal); the list says who to be.
    assert api.post("/api/reports/coverage", json=body).status_code == 403
    assert api.get("/api/reports/coverage").status_code == 401
    assert api.post("/api/reports/coverage", json=body,
                    headers=login("data_officer")).status_code == 403
    planner = login("planner", area=DISTRICT)
    outside = api.post("/api/reports/coverage", json=body, headers=planner)
    assert outside.status_code == 403 and "辖区" in outside.get_json()["error"]["message"]
    bad = api.post("/api/reports/coverage", headers=planner,
                   json={"type": "no_such_type", "circle": CIRCLE})
    assert bad.status_code == 400
    assert api.post("/api/reports/coverage", headers=planner,
                    json={"type": TYPE, "circle": CIRCLE, "sites": 99}).status_code == 400
    assert api.get("/api/reports/coverage/999999999/pdf", headers=planner).status_code == 404
