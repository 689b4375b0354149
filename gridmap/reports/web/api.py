"""Coverage reports: start one (a background job), list them, download a PDF or offline map."""

from __future__ import annotations

from flask import Response, jsonify, send_file, url_for

from gridmap.coverage.services.readers import PLANNERS
from gridmap.errors import NotFound
from gridmap.reports.services import jobs as reports
from gridmap.reports.web.blueprint import bp
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory, settings
from gridmap.web.request_log import current_request_id

MAX_SITES = 20
CODE_CHARS = 40  # facility type and circle codes (facility_type.code is varchar(40))


@bp.post("/api/reports/coverage")
@require(*PLANNERS)
def start_report() -> tuple[Response, int]:
    """Start a coverage report of ``type`` and ``circle`` over ``area`` (default: the planner's
    district): 202 with the job, or 200 with the same report already under way."""
    data = params.json_object()
    job, created = reports.start(
        session_factory(), current_principal(),
        facility_type=params.text(data, "type", max_chars=CODE_CHARS).strip(),
        circle=params.text(data, "circle", max_chars=CODE_CHARS).strip(),
        area=params.text(data, "area", max_chars=CODE_CHARS).strip() or None,
        sites=params.integer(data, "sites", default=5, lo=0, hi=MAX_SITES),
        request_id=current_request_id())
    answer = jsonify({"job": reports.public(job), "created": created})
    answer.headers["Location"] = url_for("jobs.job", job_id=job["id"])
    return answer, 202 if created else 200


@bp.get("/api/reports/coverage")
@require(*PLANNERS)
def reports_list() -> Response:
    """The newest coverage reports of the planner's district: who made each, when, its state."""
    answer = jsonify({"reports": reports.listing(session_factory(), current_principal())})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/api/reports/coverage/<int:job_id>/<fmt>")
@require(*PLANNERS)
def report_file(job_id: int, fmt: str) -> Response:
    """A finished report as ``pdf`` or as the offline map (``html``), as an attachment."""
    found = reports.download(session_factory(), current_principal(), settings().media_dir,
                             job_id, fmt)
    if not found.path.is_file():
        raise NotFound(f"报告 {job_id} 的文件已不存在 (the report's file is gone)")
    return send_file(found.path, mimetype=found.media_type, as_attachment=True,
                     download_name=found.filename, max_age=0)
