"""Monthly scorecards (考核): JSON per level, CSV per level, the workbook of every level (at
once for scripts, or as a background job the page starts, follows and then downloads)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, render_template, request, send_file, url_for

from gridmap.access import STATISTICS_ROLES
from gridmap.errors import NotFound
from gridmap.scorecards.services import scorecards, workbooks
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory, settings
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config
from gridmap.web.request_log import current_request_id

bp = Blueprint("scorecards", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH_CHARS = 7  # YYYY-MM
AREA_CHARS = 12  # a community code


@bp.get("/scorecards")
@require(*STATISTICS_ROLES)
def page() -> str:
    """The scorecards page (考核排名): month, area, level tabs, table and downloads (the
    workbook as a job: the reader's one still under way is followed)."""
    principal = current_principal()
    found = scorecards.page_settings(principal, datetime.now(UTC))
    found["workbookJob"] = workbooks.running(session_factory(), principal)
    return render_template("scorecards/index.html", page_config=page_config(**found))


@bp.get("/api/scorecards/<level>")
@require(*STATISTICS_ROLES)
def scorecard(level: str) -> Response:
    """One level's scorecard for ``month`` inside the reader's area (or a narrower ``area``)."""
    level = scorecards.parse_level(level)
    q = scorecards.parse_month(request.args, now=datetime.now(UTC))
    with session_factory()() as session:
        body = scorecards.scorecard(session, current_principal(), level, q, lang=current_lang())
    return jsonify(body)


@bp.get("/api/scorecards/<level>.csv")
@require(*STATISTICS_ROLES)
def scorecard_csv(level: str) -> Response:
    """The same scorecard as CSV (UTF-8 with BOM for Excel/WPS, formula-safe)."""
    level = scorecards.parse_level(level)
    q = scorecards.parse_month(request.args, now=datetime.now(UTC))
    lang = current_lang()
    with session_factory()() as session:
        body = scorecards.scorecard(session, current_principal(), level, q, lang=lang)
    name = f"scorecard-{level}-{body['month']}.csv"
    return Response("".join(scorecards.csv_chunks(body, lang=lang)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/api/scorecards.xlsx")
@require(*STATISTICS_ROLES)
def workbook() -> Response:
    """Every level's scorecard for ``month`` in one Excel workbook, with a definitions sheet."""
    q = scorecards.parse_month(request.args, now=datetime.now(UTC))
    with session_factory()() as session:
        data = scorecards.workbook_bytes(session, current_principal(), q, lang=current_lang())
    month = scorecards.month_label(q)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="scorecard-{month}.xlsx"'})


@bp.post("/api/scorecards/workbooks")
@require(*STATISTICS_ROLES)
def start_workbook() -> tuple[Response, int]:
    """Start building the workbook of ``month`` over ``area`` (default: the reader's area) in
    the background: 202 with the job, or 200 with the same workbook already under way."""
    data = params.json_object()
    asked = {"month": params.text(data, "month", max_chars=MONTH_CHARS).strip(),
             "area": params.text(data, "area", max_chars=AREA_CHARS).strip()}
    q = scorecards.parse_month(asked, now=datetime.now(UTC))
    job, created = workbooks.start(session_factory(), current_principal(), q,
                                   lang=current_lang(), request_id=current_request_id())
    answer = jsonify({"job": workbooks.public(job), "created": created})
    answer.headers["Location"] = url_for("jobs.job", job_id=job["id"])
    return answer, 202 if created else 200


@bp.get("/api/scorecards/workbooks/<int:job_id>.xlsx")
@require(*STATISTICS_ROLES)
def workbook_file(job_id: int) -> Response:
    """A workbook the reader's job has built, as an attachment (409 while it is not ready)."""
    found = workbooks.download(session_factory(), current_principal(), settings().media_dir,
                               job_id)
    if not found.path.is_file():
        raise NotFound(f"考核工作簿 {job_id} 的文件已不存在 (the workbook's file is gone)")
    return send_file(found.path, mimetype=XLSX, as_attachment=True,
                     download_name=found.filename, max_age=0)
