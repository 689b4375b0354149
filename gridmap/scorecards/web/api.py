"""Monthly scorecards (考核): JSON per level, CSV per level, the workbook of every level."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, render_template, request

from gridmap.access import STATISTICS_ROLES
from gridmap.scorecards.services import scorecards
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config

bp = Blueprint("scorecards", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/scorecards")
@require(*STATISTICS_ROLES)
def page() -> str:
    """The scorecards page (考核排名): month, area, level tabs, table and downloads."""
    settings = scorecards.page_settings(current_principal(), datetime.now(UTC))
    return render_template("scorecards/index.html", page_config=page_config(**settings))


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
