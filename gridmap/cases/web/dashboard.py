"""Case statistics (统计分析): the dashboard page and its JSON API."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from gridmap.access import STATISTICS_ROLES
from gridmap.cases.services import stats as case_stats
from gridmap.cases.web.page import render_case_page
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.i18n import current_lang

bp = Blueprint("case_dashboard", __name__)


@bp.get("/cases/dashboard")
@require(*STATISTICS_ROLES)
def dashboard() -> str:
    """The dashboard page (统计分析) with its unit pickers and the principal's own area as
    ``home``; every figure comes from the API."""
    with session_factory()() as session:
        pickers = case_stats.pickers(session, current_principal(), lang=current_lang())
    # The rates in display order, each with the counts it divides (as the API computes them).
    rates = [[name, *parts] for name, parts in case_stats.RATES.items()]
    return render_case_page("cases/dashboard.html", rates=rates, **pickers)


@bp.get("/api/cases/stats")
@require(*STATISTICS_ROLES)
def stats() -> Response:
    """Totals, months, children, top categories and states for ``level``/``code``/``from``/``to``,
    inside the principal's area (403 for a unit outside it)."""
    query, months = case_stats.parse_query(request.args, now=datetime.now(UTC))
    with session_factory()() as session:
        body = case_stats.stats(session, current_principal(), query, months, lang=current_lang())
    return jsonify(body)
